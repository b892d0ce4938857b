/**
 * The beta-weighting inputs of the risk timeline (src/db/timeline.ts): the β of every symbol
 * with a known beta against the benchmark (risk.md; Tastytrade market-metrics betas overridden
 * by RISK_RULES_FILE `betas`, resolved by betaTo, so an unknown β stays unknown) and the
 * benchmark's latest underlying price, exactly as `npm run risk` resolves them.
 */
import { latestUnderlyingPrices, marketMetricBetas, materializeClosingMarks } from '../db/riskInputs.js';
import { resolveTimelineRange, type TimelineDays, type TimelineQuery, type TimelineWeights } from '../db/timeline.js';
import type { Storage } from '../db/types.js';
import { betaTo, REFERENCE_BENCHMARK } from './beta.js';
import type { RiskRules } from './rules.js';
import { sessionOf } from './time.js';
import type { BetaEntry } from './types.js';

/** Pure: β to `benchmark` for every symbol that has one. */
export function timelineBetas(benchmark: string, betas: Map<string, BetaEntry>): { symbol: string; beta: number }[] {
  const symbols = new Set<string>([benchmark, REFERENCE_BENCHMARK, ...betas.keys()]);
  const out: { symbol: string; beta: number }[] = [];
  for (const s of symbols) {
    const b = betaTo(s, benchmark, betas);
    if (b !== null) out.push({ symbol: s, beta: b });
  }
  return out;
}

export async function loadTimelineWeights(storage: Pick<Storage, 'query'>, benchmark: string, rules: Pick<RiskRules, 'betas'>): Promise<TimelineWeights> {
  const betas = new Map<string, BetaEntry>();
  for (const b of await marketMetricBetas(storage)) betas.set(b.symbol, { beta: b.beta, source: 'market_metrics' });
  for (const [k, b] of rules.betas) betas.set(k, b);
  const [price] = await latestUnderlyingPrices(storage, [benchmark]);
  return { benchmark, benchmarkPrice: price?.price ?? null, betas: timelineBetas(benchmark, betas) };
}

/**
 * Pure: the day-P&L reference of every bucket, the previous session's close of its as_of
 * (risk.md; src/risk/time.ts sessionOf, exactly as npm run risk measures day P&L now).
 */
export function timelineSessions(q: Pick<TimelineQuery, 'from' | 'to' | 'bucketMs' | 'alignOffsetMs'>): TimelineDays {
  const { from, to, buckets } = resolveTimelineRange(q.from, q.to, q.bucketMs, q.alignOffsetMs ?? 0);
  const days: string[] = [];
  const closes: number[] = [];
  const index = new Map<string, number>();
  const bucketDay: number[] = [];
  for (let i = 0; i < buckets; i++) {
    const asOf = Math.min(from + (i + 1) * q.bucketMs, to);
    const { day, at } = sessionOf(asOf).previousClose;
    let k = index.get(day);
    if (k === undefined) {
      days.push(day);
      closes.push(at);
      index.set(day, (k = days.length));
    }
    bucketDay.push(k);
  }
  return { days, closes, bucketDay };
}

/**
 * The sessions of the range, with their closing marks materialised first (idempotent, as the
 * risk engine does; a read-only database keeps the first-of-day fallback).
 */
export async function loadTimelineDays(storage: Pick<Storage, 'query'>, q: Pick<TimelineQuery, 'from' | 'to' | 'bucketMs' | 'alignOffsetMs'>): Promise<TimelineDays> {
  const days = timelineSessions(q);
  for (let i = 0; i < days.days.length; i++) {
    await materializeClosingMarks(storage, days.days[i]!, days.closes[i]!).catch(() => 0);
  }
  return days;
}

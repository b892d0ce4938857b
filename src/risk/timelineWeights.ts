/**
 * The beta-weighting inputs of the risk timeline (src/db/timeline.ts): the β of every symbol
 * with a known beta against the benchmark (risk.md; Tastytrade market-metrics betas overridden
 * by RISK_RULES_FILE `betas`, resolved by betaTo, so an unknown β stays unknown) and the
 * benchmark's latest underlying price, exactly as `npm run risk` resolves them.
 */
import { latestUnderlyingPrices, marketMetricBetas } from '../db/riskInputs.js';
import type { TimelineWeights } from '../db/timeline.js';
import type { Storage } from '../db/types.js';
import { betaTo, REFERENCE_BENCHMARK } from './beta.js';
import type { RiskRules } from './rules.js';
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

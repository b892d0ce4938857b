/**
 * The portfolio now: position risk, strategies, sums per underlying / account / broker and the
 * portfolio, the benchmark and betas used (the `npm run risk -- --json` document). Pure.
 */
import { cmp, groupBy, sumRisk } from './aggregate.js';
import { betaEntryOf, betaTo } from './beta.js';
import { benchmarkPrice, positionRisk } from './position.js';
import { recognizeStrategies, type Strategy } from './strategies.js';
import type { PositionRisk, RiskInputs, RiskSums } from './types.js';

export interface RiskFilter {
  account?: string;
  underlying?: string;
  broker?: string;
}

export interface UnderlyingRisk extends RiskSums {
  underlying: string;
  price: number | null;
  beta: number | null;
}

export interface RiskReport {
  asOf: number;
  benchmark: { symbol: string; price: number | null };
  betas: { symbol: string; beta: number; betaSpy: number; source: string }[];
  unweighted: string[];
  positions: PositionRisk[];
  strategies: Strategy[];
  underlyings: UnderlyingRisk[];
  accounts: (RiskSums & { broker: string; account: string })[];
  brokers: (RiskSums & { broker: string })[];
  totals: RiskSums;
  /** Age of the newest values used (now − newest updated_at), null when nothing had values. */
  dataAgeMs: number | null;
}

const matches = (f: RiskFilter | undefined, p: { account: string; underlying: string; broker: string }) =>
  !f || ((!f.account || p.account === f.account) && (!f.underlying || p.underlying === f.underlying) && (!f.broker || p.broker === f.broker));

/** The report's position order: underlying, broker, account, expiry, strike, contract. */
export const positionOrder = (a: PositionRisk, b: PositionRisk): number => cmp(a.underlying, b.underlying) || cmp(a.broker, b.broker) || cmp(a.account, b.account)
  || cmp((a.expiry ?? ''), b.expiry ?? '') || (a.strike ?? 0) - (b.strike ?? 0) || cmp(a.contractKey, b.contractKey);

/** One underlying's sums; `ps` in report order. */
export function underlyingRisk(u: string, ps: PositionRisk[], inputs: Pick<RiskInputs, 'prices' | 'benchmark' | 'betas'>): UnderlyingRisk {
  return {
    underlying: u,
    price: inputs.prices.get(u)?.price ?? ps.find((p) => p.underlyingPrice !== null && p.instrument !== 'future')?.underlyingPrice ?? null,
    beta: betaTo(u, inputs.benchmark, inputs.betas),
    ...sumRisk(ps),
  };
}

export function buildRiskReport(inputs: RiskInputs, filter?: RiskFilter): RiskReport {
  const bench = benchmarkPrice(inputs);
  const positions = inputs.positions.filter((p) => matches(filter, p)).map((p) => positionRisk(p, inputs, bench));
  positions.sort(positionOrder);
  const strategies = recognizeStrategies(positions);
  const byUnderlying = groupBy(positions, (p) => p.underlying);
  const underlyings = [...byUnderlying].sort(([a], [b]) => cmp(a, b)).map(([u, ps]) => underlyingRisk(u, ps, inputs));
  return assembleReport(inputs, positions, strategies, underlyings, sumRisk(positions));
}

/**
 * The report from its parts (positions in report order with their strategy set, strategies,
 * underlyings sorted by symbol, totals): the full build above and the alert loop's incremental
 * state (incremental.ts) both end here, so the two documents cannot drift apart.
 */
export function assembleReport(inputs: RiskInputs, positions: PositionRisk[], strategies: Strategy[], underlyings: UnderlyingRisk[], totals: RiskSums): RiskReport {
  const accounts = [...groupBy(positions, (p) => `${p.broker}\u0000${p.account}`).values()].map((ps) => ({ broker: ps[0].broker, account: ps[0].account, ...sumRisk(ps) }));
  const brokers = [...groupBy(positions, (p) => p.broker)].map(([broker, ps]) => ({ broker, ...sumRisk(ps) }));

  const betas: RiskReport['betas'] = [];
  const unweighted: string[] = [];
  for (const u of underlyings) {
    if (u.beta === null) {
      unweighted.push(u.underlying);
      continue;
    }
    const entry = betaEntryOf(u.underlying, inputs.betas);
    const source = u.underlying === inputs.benchmark ? 'benchmark' : u.underlying === 'SPY' ? 'reference' : entry?.source ?? 'config';
    betas.push({ symbol: u.underlying, beta: u.beta, betaSpy: u.underlying === 'SPY' ? 1 : entry?.beta ?? 1, source });
  }
  const newest = positions.reduce<number | null>((m, p) => (p.updatedAt !== null && (m === null || p.updatedAt > m) ? p.updatedAt : m), null);
  return {
    asOf: inputs.now,
    benchmark: { symbol: inputs.benchmark, price: benchmarkPrice(inputs) },
    betas, unweighted, positions, strategies, underlyings, accounts, brokers,
    totals,
    dataAgeMs: newest === null ? null : Math.max(0, inputs.now - newest),
  };
}

/**
 * Beta-weighting (risk.md): BWD = delta × β × S_underlying / S_benchmark, in benchmark shares.
 * Betas are stored against SPY (Tastytrade's market-metrics beta); against another benchmark B
 * the ratio β_u / β_B is used, so B needs a known beta too (SPY: 1 by definition). Unknown β →
 * null: the position is reported unweighted and listed, never weighted with β = 1. Pure.
 */
import type { BetaEntry } from './types.js';

export const REFERENCE_BENCHMARK = 'SPY';

/** β of `symbol` to `benchmark`, or null when either beta is unknown. */
export function betaTo(symbol: string, benchmark: string, betas: Map<string, BetaEntry>): number | null {
  if (symbol === benchmark) return 1;
  const b = benchmark === REFERENCE_BENCHMARK ? 1 : betas.get(benchmark)?.beta;
  const u = symbol === REFERENCE_BENCHMARK ? 1 : betas.get(symbol)?.beta;
  if (b === undefined || u === undefined || !Number.isFinite(b) || !Number.isFinite(u) || b === 0) return null;
  return u / b;
}

/** Beta-weighted delta in benchmark shares; null when any input is unknown. */
export function bwd(delta: number | null, beta: number | null, underlyingPrice: number | null, benchmarkPrice: number | null): number | null {
  if (delta === null || beta === null || underlyingPrice === null || benchmarkPrice === null || !(benchmarkPrice > 0)) return null;
  return (delta * beta * underlyingPrice) / benchmarkPrice;
}

/**
 * Beta-weighting (risk.md): BWD = delta × β × S_underlying / S_benchmark, in benchmark shares.
 * Betas are stored against SPY (Tastytrade's market-metrics beta); against another benchmark B
 * the ratio β_u / β_B is used, so B needs a known beta too (SPY: 1 by definition). Unknown β →
 * null: the position is reported unweighted and listed, never weighted with β = 1. Pure.
 */
import type { BetaEntry } from './types.js';
import { futureProductOf } from '../core/contract.js';

export const REFERENCE_BENCHMARK = 'SPY';

/**
 * The beta entry of a symbol: its own, else (a future `/ESH7`) its product's (`/ES`): market
 * metrics and most overrides are per product, positions per contract month. An override
 * (RISK_RULES_FILE) replaces the market-metrics entry of the same symbol before this is asked.
 */
export function betaEntryOf(symbol: string, betas: Map<string, BetaEntry>): BetaEntry | undefined {
  const own = betas.get(symbol);
  if (own) return own;
  const product = futureProductOf(symbol);
  return product ? betas.get(product) : undefined;
}

/** β of `symbol` to `benchmark`, or null when either beta is unknown. */
export function betaTo(symbol: string, benchmark: string, betas: Map<string, BetaEntry>): number | null {
  if (symbol === benchmark) return 1;
  const b = benchmark === REFERENCE_BENCHMARK ? 1 : betaEntryOf(benchmark, betas)?.beta;
  const u = symbol === REFERENCE_BENCHMARK ? 1 : betaEntryOf(symbol, betas)?.beta;
  if (b === undefined || u === undefined || !Number.isFinite(b) || !Number.isFinite(u) || b === 0) return null;
  return u / b;
}

/** Beta-weighted delta in benchmark shares; null when any input is unknown. */
export function bwd(delta: number | null, beta: number | null, underlyingPrice: number | null, benchmarkPrice: number | null): number | null {
  if (delta === null || beta === null || underlyingPrice === null || benchmarkPrice === null || !(benchmarkPrice > 0)) return null;
  return (delta * beta * underlyingPrice) / benchmarkPrice;
}

/**
 * Risk report → the JSON document of interface.md and the web11 contract (snake_case, ISO-8601
 * UTC times, unknown = null). Used by `npm run risk -- --json`, /v1/risk/* and the RiskService.
 */
import type { RiskReport, UnderlyingRisk } from './report.js';
import type { ScenarioResult } from './scenarios.js';
import type { PositionRisk, RiskSums } from './types.js';
import type { Strategy } from './strategies.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function sumsJson(s: RiskSums) {
  return {
    positions: s.positions, delta: s.delta, dollar_delta: s.dollarDelta, bwd: s.bwd, gamma: s.gamma, theta: s.theta, vega: s.vega,
    unrealized_pnl: s.unrealizedPnl, day_pnl: s.dayPnl, realized_pnl: s.realizedPnl, incomplete: s.incomplete,
    fees: s.fees,
  };
}

export function positionJson(p: PositionRisk) {
  return {
    broker: p.broker, account: p.account, contract_key: p.contractKey, underlying: p.underlying, instrument: p.instrument,
    quantity: p.quantity, multiplier: p.multiplier, mark: p.mark, mark_source: p.markSource, avg_price: p.avgPrice,
    beta: p.beta, dte: p.dte, strategy: p.strategy,
    delta: p.delta, dollar_delta: p.dollarDelta, bwd: p.bwd, gamma: p.gamma, theta: p.theta, vega: p.vega,
    unrealized_pnl: p.unrealizedPnl, day_pnl: p.dayPnl, updated_at: iso(p.updatedAt), stale: p.stale,
    // additive fields
    right: p.right, strike: p.strike, expiry: p.expiry, underlying_price: p.underlyingPrice, iv: p.iv,
    day_pnl_basis: p.dayPnlBasis, realized_pnl: p.realizedPnl, fees: p.fees,
  };
}

export function strategyJson(s: Strategy) {
  return {
    id: s.id, broker: s.broker, account: s.account, underlying: s.underlying, kind: s.kind, legs: s.legs,
    credit: s.credit, max_profit: s.maxProfit, max_loss: s.maxLoss, breakevens: s.breakevens, unrealized_pnl: s.unrealizedPnl, dte: s.dte,
  };
}

export function underlyingJson(u: UnderlyingRisk) {
  const { positions, delta, dollar_delta, bwd, gamma, theta, vega, unrealized_pnl, day_pnl, realized_pnl, incomplete, fees } = sumsJson(u);
  return { underlying: u.underlying, price: u.price, beta: u.beta, positions, delta, dollar_delta, bwd, gamma, theta, vega, unrealized_pnl, day_pnl, realized_pnl, incomplete, fees };
}

function head(r: RiskReport) {
  return {
    as_of: iso(r.asOf)!,
    benchmark: { symbol: r.benchmark.symbol, price: r.benchmark.price },
    betas: r.betas.map((b) => ({ symbol: b.symbol, beta: b.beta, beta_spy: b.betaSpy, source: b.source })),
    unweighted: r.unweighted,
  };
}

/** The full `risk --json` document (= GET /v1/risk/positions). */
export function riskJson(r: RiskReport) {
  return {
    ...head(r),
    positions: r.positions.map(positionJson),
    strategies: r.strategies.map(strategyJson),
    underlyings: r.underlyings.map(underlyingJson),
    accounts: r.accounts.map((a) => ({ broker: a.broker, account: a.account, ...sumsJson(a) })),
    brokers: r.brokers.map((b) => ({ broker: b.broker, ...sumsJson(b) })),
    totals: sumsJson(r.totals),
  };
}

export type RiskSummaryJson = ReturnType<typeof summaryJson>;

/** GET /v1/risk/summary: the document without positions and strategies, plus data_age_ms. */
export function summaryJson(r: RiskReport) {
  return {
    ...head(r),
    underlyings: r.underlyings.map(underlyingJson),
    accounts: r.accounts.map((a) => ({ broker: a.broker, account: a.account, ...sumsJson(a) })),
    brokers: r.brokers.map((b) => ({ broker: b.broker, ...sumsJson(b) })),
    totals: sumsJson(r.totals),
    data_age_ms: r.dataAgeMs,
  };
}

export interface ScenarioMeta {
  asOf: number;
  benchmark: string;
  rate: number;
  dividendYield: number | Record<string, number>;
  mode: 'underlying' | 'beta';
  spotMovesPct: number[];
  ivShiftsPts: number[];
  days: number[];
}

export const MODEL_NOTE = 'full revaluation: Black-Scholes from each position\'s stored IV (Black-76 for futures options), European exercise assumed; taylor = delta*dS + 1/2*gamma*dS^2 + theta*days + vega*dIV(points)';

export function scenariosJson(meta: ScenarioMeta, result: ScenarioResult) {
  return {
    as_of: iso(meta.asOf)!, benchmark: meta.benchmark, rate: meta.rate, dividend_yield: meta.dividendYield, model_note: MODEL_NOTE,
    mode: meta.mode, spot_moves_pct: meta.spotMovesPct, iv_shifts_pts: meta.ivShiftsPts, days: meta.days,
    rows: result.rows.map((r) => ({ subject: r.subject, spot_move_pct: r.spotMovePct, iv_shift_pts: r.ivShiftPts, days: r.days, pnl_full: r.pnlFull, pnl_taylor: r.pnlTaylor })),
    excluded: result.excluded.map((e) => ({ broker: e.broker, account: e.account, contract_key: e.contractKey, reason: e.reason })),
  };
}

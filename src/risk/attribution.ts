/**
 * Greek P&L attribution over a chosen interval [t0, t1] (risk.md "P&L"): per position
 * Δ·dS + ½·Γ·dS² + Θ·dt_days + V·dσ_points with the position Greeks at t0, the actual P&L
 * (mark₁ − mark₀) × qty × mult, residual = actual − explained, always shown. Pure; the rows
 * come from src/db/attribution.ts.
 *
 * Conventions: the position is the one held at t0 (its snapshot's quantity); trades inside the
 * interval are not attributed (realized P&L covers them). A position's values at t are its
 * newest snapshot at or before t (within the lookback). dt_days = (t1 − t0) / 1 day (calendar).
 * Stock/future positions (current `positions`; no history of their size is stored): delta only,
 * so explained = actual and the residual is 0. A position missing a mark or price at either end
 * has null numbers and counts in `incomplete`; sums skip it.
 */
import { attribute } from './pnl.js';
import { instrumentOf } from './instrument.js';
import { DAY_MS } from './time.js';

export interface AttributionRow {
  broker: string;
  account: string;
  contractKey: string;
  underlying: string;
  /** 'stock' / 'future' rows have no Greeks; their mark is the underlying price. */
  assetClass?: string;
  size: number;
  quantity: number;
  multiplier: number;
  at0: number | null;
  at1: number | null;
  s0: number | null;
  s1: number | null;
  iv0: number | null;
  iv1: number | null;
  mark0: number | null;
  mark1: number | null;
  /** Per-contract Greeks at t0 (options); null for stock. */
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
}

export interface AttributionParts {
  delta_pnl: number | null;
  gamma_pnl: number | null;
  theta_pnl: number | null;
  vega_pnl: number | null;
  explained: number | null;
  actual: number | null;
  residual: number | null;
}

export interface AttributionPosition extends AttributionParts {
  broker: string;
  account: string;
  contract_key: string;
  underlying: string;
  instrument: string;
  quantity: number;
  multiplier: number;
  t0_at: string | null;
  t1_at: string | null;
  underlying_price_t0: number | null;
  underlying_price_t1: number | null;
  iv_t0: number | null;
  iv_t1: number | null;
  mark_t0: number | null;
  mark_t1: number | null;
  /** Position Greeks at t0 (× qty × mult). */
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
}

export interface AttributionSums extends AttributionParts {
  positions: number;
  incomplete: number;
}

export interface AttributionDocument {
  from: string;
  to: string;
  dt_days: number;
  note: string;
  positions: AttributionPosition[];
  underlyings: Array<{ underlying: string } & AttributionSums>;
  totals: AttributionSums;
}

export const ATTRIBUTION_NOTE = 'explained = delta*dS + 1/2*gamma*dS^2 + theta*dt_days + vega*dIV(points), position Greeks at t0; actual = (mark_t1 - mark_t0) x qty x multiplier; residual = actual - explained';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const times = (a: number | null, b: number) => (a === null ? null : a * b);

export function attributionOf(r: AttributionRow, dtDays: number): AttributionPosition {
  const inst = instrumentOf(r.contractKey, r.assetClass);
  const linear = inst.kind === 'stock' || inst.kind === 'future';
  const delta = linear ? r.size : times(r.delta, r.size);
  const gamma = linear ? null : times(r.gamma, r.size);
  const theta = linear ? null : times(r.theta, r.size);
  const vega = linear ? null : times(r.vega, r.size);
  const base = {
    broker: r.broker, account: r.account, contract_key: r.contractKey, underlying: r.underlying, instrument: inst.kind,
    quantity: r.quantity, multiplier: r.multiplier, t0_at: iso(r.at0), t1_at: iso(r.at1),
    underlying_price_t0: r.s0, underlying_price_t1: r.s1, iv_t0: r.iv0, iv_t1: r.iv1, mark_t0: r.mark0, mark_t1: r.mark1,
    delta, gamma, theta, vega,
  };
  const known = r.s0 !== null && r.s1 !== null && r.mark0 !== null && r.mark1 !== null;
  if (!known) return { ...base, delta_pnl: null, gamma_pnl: null, theta_pnl: null, vega_pnl: null, explained: null, actual: null, residual: null };
  const dVolPts = r.iv0 !== null && r.iv1 !== null ? (r.iv1 - r.iv0) * 100 : 0;
  const a = attribute({ delta, gamma, theta, vega, dS: r.s1! - r.s0!, dVolPts, dtDays, actual: (r.mark1! - r.mark0!) * r.size });
  return { ...base, delta_pnl: a.delta, gamma_pnl: a.gamma, theta_pnl: a.theta, vega_pnl: a.vega, explained: a.explained, actual: a.actual, residual: a.residual };
}

function sums(items: AttributionPosition[]): AttributionSums {
  const keys = ['delta_pnl', 'gamma_pnl', 'theta_pnl', 'vega_pnl', 'explained', 'actual', 'residual'] as const;
  const known = items.filter((p) => p.actual !== null);
  const out = { positions: items.length, incomplete: items.length - known.length } as AttributionSums;
  for (const k of keys) out[k] = known.length === 0 ? null : known.reduce((s, p) => s + (p[k] ?? 0), 0);
  return out;
}

export function attributionDocument(rows: AttributionRow[], t0: number, t1: number): AttributionDocument {
  const dtDays = (t1 - t0) / DAY_MS;
  const positions = rows.map((r) => attributionOf(r, dtDays))
    .sort((a, b) => a.underlying.localeCompare(b.underlying) || a.broker.localeCompare(b.broker) || a.account.localeCompare(b.account) || a.contract_key.localeCompare(b.contract_key));
  const byUnderlying = new Map<string, AttributionPosition[]>();
  for (const p of positions) byUnderlying.set(p.underlying, [...(byUnderlying.get(p.underlying) ?? []), p]);
  return {
    from: iso(t0)!, to: iso(t1)!, dt_days: dtDays, note: ATTRIBUTION_NOTE, positions,
    underlyings: [...byUnderlying].map(([underlying, list]) => ({ underlying, ...sums(list) })),
    totals: sums(positions),
  };
}

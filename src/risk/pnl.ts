/**
 * Realized P&L from trades (FIFO lots per broker, account and contract) and Greek attribution
 * between two instants (risk.md "P&L"). Pure.
 */
import { instrumentOf } from './instrument.js';
import { marketKey } from './types.js';

export interface TradeInput {
  broker: string;
  account: string;
  contractKey: string;
  side: 'buy' | 'sell';
  /** Unsigned size. */
  quantity: number;
  price: number;
  executedAt: number;
  /** Fees in currency when the broker gives them (positive = paid). */
  fees?: number | null;
}

export interface RealizedResult {
  /** By marketKey(broker, account, contract_key): net of the trades' fees. */
  realized: Map<string, number>;
  /** Fees of all its trades by marketKey (keys whose trades carried no fee are absent). */
  fees: Map<string, number>;
  /** What FIFO leaves open per key: signed quantity and the lots' average price. */
  open: Map<string, { quantity: number; avgPrice: number | null }>;
}

/**
 * The multiplier trades are settled with: the position's when known, else what the key says
 * (OCC option 100, stock 1); null when it cannot be known (futures without a position).
 */
export function tradeMultiplier(contractKey: string, known?: number): number | null {
  if (known !== undefined && Number.isFinite(known)) return known;
  const k = instrumentOf(contractKey).kind;
  return k === 'option' ? 100 : k === 'stock' ? 1 : null;
}

/**
 * FIFO: each trade first closes the oldest opposite lots (realizing (exit − entry) × size ×
 * mult, sign by side), the rest opens a new lot. Trades are taken in executed_at order.
 * Realized is net of fees: every trade's fees (opening ones too) are a cost when paid (D78).
 */
export function realizedFifo(trades: TradeInput[], multiplierOf: (key: string) => number | undefined = () => undefined): RealizedResult {
  const byKey = new Map<string, TradeInput[]>();
  for (const t of trades) {
    const k = marketKey(t.broker, t.account, t.contractKey);
    const list = byKey.get(k);
    if (list) list.push(t);
    else byKey.set(k, [t]);
  }
  const realized = new Map<string, number>();
  const feesByKey = new Map<string, number>();
  const open = new Map<string, { quantity: number; avgPrice: number | null }>();
  for (const [k, list] of byKey) {
    list.sort((a, b) => a.executedAt - b.executedAt);
    const mult = tradeMultiplier(list[0].contractKey, multiplierOf(list[0].contractKey));
    const lots: { qty: number; price: number }[] = []; // signed qty
    let pnl = 0;
    let fees: number | null = null;
    for (const t of list) {
      let left = t.side === 'buy' ? t.quantity : -t.quantity;
      while (left !== 0 && lots.length > 0 && Math.sign(lots[0].qty) !== Math.sign(left)) {
        const lot = lots[0];
        const close = Math.min(Math.abs(lot.qty), Math.abs(left)) * Math.sign(lot.qty);
        pnl += (t.price - lot.price) * close;
        lot.qty -= close;
        left += close;
        if (lot.qty === 0) lots.shift();
      }
      if (left !== 0) lots.push({ qty: left, price: t.price });
      if (t.fees !== undefined && t.fees !== null && Number.isFinite(t.fees)) fees = (fees ?? 0) + t.fees;
    }
    if (fees !== null) feesByKey.set(k, fees);
    if (mult !== null) realized.set(k, pnl * mult - (fees ?? 0));
    const q = lots.reduce((s, l) => s + l.qty, 0);
    open.set(k, { quantity: q, avgPrice: q === 0 ? null : lots.reduce((s, l) => s + l.qty * l.price, 0) / q });
  }
  return { realized, fees: feesByKey, open };
}

/** Position Greeks at t0 (already × qty × mult) and what moved by t1. */
export interface AttributionInput {
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  /** Underlying price change S1 − S0. */
  dS: number;
  /** IV change in points ((iv1 − iv0) × 100). */
  dVolPts: number;
  /** Calendar days between t0 and t1. */
  dtDays: number;
  /** The actual P&L over the interval ((mark1 − mark0) × qty × mult). */
  actual: number;
}

export interface Attribution {
  delta: number;
  gamma: number;
  theta: number;
  vega: number;
  explained: number;
  actual: number;
  residual: number;
}

/** Δ·dS + ½·Γ·dS² + Θ·dt + V·dσ; residual = actual − explained (an unknown Greek explains nothing). */
export function attribute(i: AttributionInput): Attribution {
  const delta = (i.delta ?? 0) * i.dS;
  const gamma = 0.5 * (i.gamma ?? 0) * i.dS * i.dS;
  const theta = (i.theta ?? 0) * i.dtDays;
  const vega = (i.vega ?? 0) * i.dVolPts;
  const explained = delta + gamma + theta + vega;
  return { delta, gamma, theta, vega, explained, actual: i.actual, residual: i.actual - explained };
}

export function sumAttribution(items: Attribution[]): Attribution {
  const z: Attribution = { delta: 0, gamma: 0, theta: 0, vega: 0, explained: 0, actual: 0, residual: 0 };
  for (const a of items) for (const k of Object.keys(z) as (keyof Attribution)[]) z[k] += a[k];
  return z;
}

/**
 * The P&L at expiry of a group of legs that share one expiry, as a function of the underlying
 * price: piecewise linear with kinks at the strikes. From it: max profit, max loss and
 * breakevens (risk.md "Strategies"). Pure.
 */
import type { Right } from './bs.js';

export interface PayoffLeg {
  /** 'stock' (or a future) pays S − avg; an option pays its intrinsic value − avg. */
  kind: 'option' | 'linear';
  right?: Right;
  strike?: number;
  quantity: number;
  multiplier: number;
  avgPrice: number;
}

export interface PayoffSummary {
  /** Dollars; null = unbounded. */
  maxProfit: number | null;
  /** Dollars lost at worst, as a positive number; null = unbounded. */
  maxLoss: number | null;
  /** Underlying prices where the P&L at expiry crosses zero, ascending. */
  breakevens: number[];
}

export function pnlAtExpiry(legs: PayoffLeg[], s: number): number {
  let total = 0;
  for (const l of legs) {
    const value = l.kind === 'linear' ? s : l.right === 'C' ? Math.max(0, s - l.strike!) : Math.max(0, l.strike! - s);
    total += (value - l.avgPrice) * l.quantity * l.multiplier;
  }
  return total;
}

const round = (x: number) => Math.round(x * 1e6) / 1e6;

export function payoffSummary(legs: PayoffLeg[]): PayoffSummary {
  const strikes = [...new Set(legs.filter((l) => l.kind === 'option').map((l) => l.strike!))].sort((a, b) => a - b);
  const xs = [0, ...strikes.filter((k) => k > 0)];
  const last = xs[xs.length - 1];
  const far = last > 0 ? last * 2 + 1 : 1;
  xs.push(far);
  const ys = xs.map((x) => pnlAtExpiry(legs, x));
  const slopeUp = pnlAtExpiry(legs, far + 1) - ys[ys.length - 1];
  const max = Math.max(...ys);
  const min = Math.min(...ys);
  const eps = 1e-9;
  const breakevens: number[] = [];
  for (let i = 0; i + 1 < xs.length; i++) {
    const [x0, x1, y0, y1] = [xs[i], xs[i + 1], ys[i], ys[i + 1]];
    if (Math.abs(y0) < eps && i > 0) breakevens.push(x0);
    else if ((y0 < -eps && y1 > eps) || (y0 > eps && y1 < -eps)) breakevens.push(x0 + ((x1 - x0) * -y0) / (y1 - y0));
  }
  const yEnd = ys[ys.length - 1];
  if (Math.abs(yEnd) < eps) breakevens.push(far);
  else if ((yEnd < 0 && slopeUp > eps) || (yEnd > 0 && slopeUp < -eps)) breakevens.push(far + -yEnd / slopeUp);
  return {
    maxProfit: slopeUp > eps ? null : round(max),
    maxLoss: slopeUp < -eps ? null : round(Math.max(0, -min)),
    breakevens: [...new Set(breakevens.map(round))].filter((b) => b > 0),
  };
}

/**
 * What-if grid (risk.md "Scenarios"): every position revalued with Black–Scholes (Black-76 for
 * futures options) from its stored IV at each spot move × IV shift × days forward, beside the
 * Greek (Taylor) estimate Δ·dS + ½·Γ·dS² + Θ·days + V·dσ_points. European exercise. Moves are
 * per underlying (every underlying moves by the same %) or through β (the benchmark moves by
 * the %, each underlying by β × that). Pure.
 */
import { cmp } from './aggregate.js';
import { blackScholes } from './bs.js';
import type { PositionRisk } from './types.js';

export const SPOT_MOVES_PCT = [-10, -5, -2, -1, 0, 1, 2, 5, 10];
export const IV_SHIFTS_PTS = [-5, 0, 5];
export const DAYS = [0, 1];

export interface ScenarioOptions {
  rate: number;
  /** Continuous dividend yield per underlying (fraction), 0 when absent. */
  dividendYield: (underlying: string) => number;
  mode: 'underlying' | 'beta';
  spotMovesPct?: number[];
  ivShiftsPts?: number[];
  days?: number[];
}

export interface ScenarioRow {
  subject: string;
  spotMovePct: number;
  ivShiftPts: number;
  days: number;
  pnlFull: number;
  pnlTaylor: number;
}

export interface ScenarioResult {
  rows: ScenarioRow[];
  /** Positions left out, with the reason (no IV, no underlying price, unknown β in beta mode). */
  excluded: { broker: string; account: string; contractKey: string; reason: string }[];
}

const MIN_VOL = 0.001;

/** P&L of one position in each grid cell, in grid order (moves × shifts × days), or a reason it cannot be revalued. */
export function positionScenarioPnl(p: PositionRisk, opts: ScenarioOptions): { full: number[]; taylor: number[] } | string {
  const moves = opts.spotMovesPct ?? SPOT_MOVES_PCT;
  const shifts = opts.ivShiftsPts ?? IV_SHIFTS_PTS;
  const days = opts.days ?? DAYS;
  const s = p.underlyingPrice;
  if (s === null || !(s > 0)) return 'no underlying price';
  let scale = 1;
  if (opts.mode === 'beta') {
    if (p.beta === null) return 'no beta';
    scale = p.beta;
  }
  const full: number[] = [];
  const taylor: number[] = [];
  const option = p.instrument === 'option' || p.instrument === 'future_option';
  const size = p.quantity * p.multiplier;
  if (!option) {
    if (p.instrument !== 'stock' && p.instrument !== 'future') return 'not priceable';
    const per = p.instrument === 'stock' ? p.quantity : size;
    for (const m of moves) for (const _v of shifts) for (const _d of days) {
      const v = per * s * (m / 100) * scale;
      full.push(v);
      taylor.push(v);
    }
    return { full, taylor };
  }
  if (p.iv === null || !(p.iv > 0)) return 'no implied volatility';
  if (p.dte === null) return 'no expiry';
  const carry = p.instrument === 'future_option' ? 0 : opts.rate - opts.dividendYield(p.underlying);
  const right = p.right!;
  const strike = p.strike!;
  const rate = opts.rate;
  const iv = p.iv;
  const dte = p.dte;
  const now = blackScholes({ right, strike, rate, carry, spot: s, vol: iv, years: dte / 365 });
  // Taylor uses the position's Greeks as stored (the broker's); the model's where the broker sent none.
  const d = p.delta ?? now.delta * size;
  const g = p.gamma ?? now.gamma * size;
  const t = p.theta ?? now.theta * size;
  const v = p.vega ?? now.vega * size;
  for (const m of moves) {
    const dS = s * (m / 100) * scale;
    for (const sh of shifts) {
      for (const dd of days) {
        const after = blackScholes({ right, strike, rate, carry, spot: s + dS, vol: Math.max(MIN_VOL, iv + sh / 100), years: (dte - dd) / 365 });
        full.push((after.price - now.price) * size);
        taylor.push(d * dS + 0.5 * g * dS * dS + t * dd + v * sh);
      }
    }
  }
  return { full, taylor };
}

/** The grid per underlying and for the portfolio. */
export function scenarioGrid(positions: PositionRisk[], opts: ScenarioOptions): ScenarioResult {
  const moves = opts.spotMovesPct ?? SPOT_MOVES_PCT;
  const shifts = opts.ivShiftsPts ?? IV_SHIFTS_PTS;
  const days = opts.days ?? DAYS;
  const cells = moves.length * shifts.length * days.length;
  const sums = new Map<string, { full: number[]; taylor: number[] }>();
  const add = (subject: string, r: { full: number[]; taylor: number[] }) => {
    let acc = sums.get(subject);
    if (!acc) sums.set(subject, (acc = { full: new Array(cells).fill(0), taylor: new Array(cells).fill(0) }));
    for (let i = 0; i < cells; i++) {
      acc.full[i] += r.full[i];
      acc.taylor[i] += r.taylor[i];
    }
  };
  const excluded: ScenarioResult['excluded'] = [];
  for (const p of [...positions].sort((a, b) => cmp(a.underlying, b.underlying))) {
    const r = positionScenarioPnl(p, opts);
    if (typeof r === 'string') {
      excluded.push({ broker: p.broker, account: p.account, contractKey: p.contractKey, reason: r });
      continue;
    }
    add('portfolio', r);
    add(p.underlying, r);
  }
  const rows: ScenarioRow[] = [];
  const subjects = ['portfolio', ...[...sums.keys()].filter((k) => k !== 'portfolio')];
  for (const subject of subjects) {
    const acc = sums.get(subject);
    if (!acc) continue;
    let i = 0;
    for (const m of moves) for (const sh of shifts) for (const dd of days) {
      rows.push({ subject, spotMovePct: m, ivShiftPts: sh, days: dd, pnlFull: acc.full[i], pnlTaylor: acc.taylor[i] });
      i++;
    }
  }
  return { rows, excluded };
}

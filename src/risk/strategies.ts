/**
 * Strategy recognition (risk.md "Strategies"): open legs grouped by broker, account and
 * underlying, then matched in this order, each leg used once and never split:
 *   butterfly (1 : −2 : 1, same type and expiry) → vertical (2 legs, same type and expiry,
 *   opposite sides, equal size) → iron condor (a put vertical + a call vertical, same expiry and
 *   size, both short premium or both long) → straddle / strangle (a call and a put, same expiry,
 *   same side, equal size) → calendar / diagonal (same type, different expiries, opposite sides,
 *   equal size) → covered call (long stock + short calls, at least multiplier shares per short
 *   call) → what is left: 'single' for one option, 'custom' for several, 'stock' / 'future'.
 * Credit = premium received at open (−Σ avg_price × qty × mult over the option legs; negative =
 * debit). Max profit / loss / breakevens from the P&L at expiry for single-expiry groups. Pure.
 */
import { cmp, groupBy } from './aggregate.js';
import { payoffSummary, type PayoffLeg } from './payoff.js';
import type { PositionRisk } from './types.js';

export type StrategyKind =
  | 'vertical' | 'iron_condor' | 'butterfly' | 'straddle' | 'strangle' | 'calendar' | 'diagonal'
  | 'covered_call' | 'single' | 'custom' | 'stock' | 'future';

export interface Strategy {
  id: string;
  broker: string;
  account: string;
  underlying: string;
  kind: StrategyKind;
  legs: string[];
  credit: number | null;
  maxProfit: number | null;
  maxLoss: number | null;
  breakevens: number[] | null;
  unrealizedPnl: number | null;
  /** Nearest expiry of its option legs. */
  dte: number | null;
}

type Leg = PositionRisk;
const isOpt = (l: Leg) => l.instrument === 'option' || l.instrument === 'future_option';

/** Finds a match among the unused legs and marks them used. */
type Matcher = (legs: Leg[], used: Set<Leg>) => { kind: StrategyKind; legs: Leg[] } | null;

function sameSeries(a: Leg, b: Leg) {
  return a.right === b.right && a.expiry === b.expiry;
}

const butterfly: Matcher = (legs, used) => {
  const free = legs.filter((l) => isOpt(l) && !used.has(l));
  for (const body of free) {
    for (const lo of free) {
      if (lo === body || !sameSeries(lo, body) || lo.strike! >= body.strike!) continue;
      if (lo.quantity * -2 !== body.quantity) continue;
      for (const hi of free) {
        if (hi === body || hi === lo || !sameSeries(hi, body) || hi.strike! <= body.strike!) continue;
        if (hi.quantity === lo.quantity) return { kind: 'butterfly', legs: [lo, body, hi] };
      }
    }
  }
  return null;
};

function findVertical(legs: Leg[], used: Set<Leg>, right?: 'C' | 'P', expiry?: string, size?: number): [Leg, Leg] | null {
  const free = legs.filter((l) => isOpt(l) && !used.has(l) && (!right || l.right === right) && (!expiry || l.expiry === expiry));
  let best: [Leg, Leg] | null = null;
  for (const a of free) {
    for (const b of free) {
      if (a === b || !sameSeries(a, b) || a.quantity !== -b.quantity || a.quantity <= 0) continue;
      if (size !== undefined && Math.abs(a.quantity) !== size) continue;
      if (a.strike === b.strike) continue;
      if (!best || Math.abs(a.strike! - b.strike!) < Math.abs(best[0].strike! - best[1].strike!)) best = [a, b];
    }
  }
  return best;
}

/** Short premium: the short strike is nearer the money (higher put / lower call). */
function isShortVertical(v: [Leg, Leg]): boolean {
  const short = v[0].quantity < 0 ? v[0] : v[1];
  const long = short === v[0] ? v[1] : v[0];
  return short.right === 'P' ? short.strike! > long.strike! : short.strike! < long.strike!;
}

const ironCondor: Matcher = (legs, used) => {
  const puts = legs.filter((l) => isOpt(l) && !used.has(l) && l.right === 'P');
  for (const p of puts) {
    const pv = findVertical(legs, used, 'P', p.expiry!, Math.abs(p.quantity));
    if (!pv) continue;
    const trial = new Set([...used, ...pv]);
    const cv = findVertical(legs, trial, 'C', p.expiry!, Math.abs(p.quantity));
    if (!cv || isShortVertical(pv) !== isShortVertical(cv)) continue;
    const innerPut = Math.max(pv[0].strike!, pv[1].strike!);
    const innerCall = Math.min(cv[0].strike!, cv[1].strike!);
    if (innerPut <= innerCall) return { kind: 'iron_condor', legs: [...pv, ...cv].sort((a, b) => a.strike! - b.strike!) };
  }
  return null;
};

const vertical: Matcher = (legs, used) => {
  const v = findVertical(legs, used);
  return v ? { kind: 'vertical', legs: v.sort((a, b) => a.strike! - b.strike!) } : null;
};

const straddle: Matcher = (legs, used) => {
  const free = legs.filter((l) => isOpt(l) && !used.has(l));
  for (const c of free) {
    if (c.right !== 'C') continue;
    const p = free.find((x) => x.right === 'P' && x.expiry === c.expiry && x.quantity === c.quantity);
    if (p) return { kind: p.strike === c.strike ? 'straddle' : 'strangle', legs: [p, c] };
  }
  return null;
};

const calendar: Matcher = (legs, used) => {
  const free = legs.filter((l) => isOpt(l) && !used.has(l));
  let best: [Leg, Leg] | null = null;
  for (const a of free) {
    for (const b of free) {
      if (a === b || a.right !== b.right || a.expiry === b.expiry || a.quantity !== -b.quantity || a.quantity <= 0) continue;
      if (!best || (a.strike === b.strike && best[0].strike !== best[1].strike)) best = [a, b];
    }
  }
  if (!best) return null;
  return { kind: best[0].strike === best[1].strike ? 'calendar' : 'diagonal', legs: best.sort((x, y) => cmp(x.expiry!, y.expiry!)) };
};

const coveredCall: Matcher = (legs, used) => {
  const stock = legs.find((l) => l.instrument === 'stock' && !used.has(l) && l.quantity > 0);
  if (!stock) return null;
  let shares = stock.quantity;
  const calls: Leg[] = [];
  for (const c of legs.filter((l) => l.instrument === 'option' && !used.has(l) && l.right === 'C' && l.quantity < 0)) {
    const need = -c.quantity * c.multiplier;
    if (need <= shares) {
      calls.push(c);
      shares -= need;
    }
  }
  return calls.length ? { kind: 'covered_call', legs: [stock, ...calls] } : null;
};

const MATCHERS: Matcher[] = [butterfly, ironCondor, vertical, straddle, calendar, coveredCall];

/** The P&L-at-expiry legs, or null when an average price is unknown. */
function payoffLegs(legs: Leg[]): PayoffLeg[] | null {
  const out: PayoffLeg[] = [];
  for (const l of legs) {
    if (l.avgPrice === null) return null;
    if (isOpt(l)) out.push({ kind: 'option', right: l.right!, strike: l.strike!, quantity: l.quantity, multiplier: l.multiplier, avgPrice: l.avgPrice });
    else out.push({ kind: 'linear', quantity: l.quantity, multiplier: l.instrument === 'stock' ? 1 : l.multiplier, avgPrice: l.avgPrice });
  }
  return out;
}

const compact = (k: string) => k.replace(/\s+/g, '');

export function describeStrategy(broker: string, account: string, underlying: string, kind: StrategyKind, legs: Leg[]): Strategy {
  const options = legs.filter(isOpt);
  const credit = options.length === 0 || options.some((l) => l.avgPrice === null)
    ? null
    : -options.reduce((s, l) => s + l.avgPrice! * l.quantity * l.multiplier, 0);
  const expiries = new Set(options.map((l) => l.expiry));
  let maxProfit: number | null = null;
  let maxLoss: number | null = null;
  let breakevens: number[] | null = null;
  const pl = payoffLegs(legs);
  if (pl && expiries.size <= 1 && kind !== 'stock' && kind !== 'future') {
    ({ maxProfit, maxLoss, breakevens } = payoffSummary(pl));
  } else if (pl && (kind === 'calendar' || kind === 'diagonal') && credit !== null && credit < 0) {
    maxLoss = -credit; // a long calendar can lose at most what it cost (European, same underlying)
  }
  return {
    id: `${broker}:${account}:${kind}:${legs.map((l) => compact(l.contractKey)).join('+')}`,
    broker, account, underlying, kind, legs: legs.map((l) => l.contractKey),
    credit, maxProfit, maxLoss, breakevens, ...strategyMarks(legs),
  };
}

/**
 * What moves with the market and the clock (unrealized P&L, nearest DTE); the rest of a
 * strategy (credit, payoff) only changes with its legs. The alert loop re-describes with this.
 */
export function strategyMarks(legs: Leg[]): Pick<Strategy, 'unrealizedPnl' | 'dte'> {
  const unrealized = legs.some((l) => l.unrealizedPnl === null) ? null : legs.reduce((s, l) => s + l.unrealizedPnl!, 0);
  const dtes = legs.filter(isOpt).map((l) => l.dte).filter((d): d is number => d !== null);
  return { unrealizedPnl: unrealized, dte: dtes.length ? Math.min(...dtes) : null };
}

/** Recognises strategies and sets `strategy` (the id) on every position it was given. */
export function recognizeStrategies(positions: PositionRisk[]): Strategy[] {
  const out: Strategy[] = [];
  const groups = groupBy(positions, (p) => `${p.broker}\u0000${p.account}\u0000${p.underlying}`);
  for (const legs of groups.values()) {
    const { broker, account, underlying } = legs[0];
    const sorted = [...legs].sort((a, b) => cmp((a.expiry ?? ''), b.expiry ?? '') || (a.strike ?? 0) - (b.strike ?? 0) || cmp(a.contractKey, b.contractKey));
    const used = new Set<Leg>();
    const found: { kind: StrategyKind; legs: Leg[] }[] = [];
    for (const m of MATCHERS) {
      for (let hit = m(sorted, used); hit; hit = m(sorted, used)) {
        hit.legs.forEach((l) => used.add(l));
        found.push(hit);
      }
    }
    const rest = sorted.filter((l) => !used.has(l));
    const restOptions = rest.filter(isOpt);
    if (restOptions.length === 1) found.push({ kind: 'single', legs: restOptions });
    else if (restOptions.length > 1) found.push({ kind: 'custom', legs: restOptions });
    for (const l of rest) {
      if (l.instrument === 'stock') found.push({ kind: 'stock', legs: [l] });
      else if (l.instrument === 'future') found.push({ kind: 'future', legs: [l] });
      else if (!isOpt(l)) found.push({ kind: 'custom', legs: [l] });
    }
    for (const f of found) {
      const s = describeStrategy(broker, account, underlying, f.kind, f.legs);
      f.legs.forEach((l) => (l.strategy = s.id));
      out.push(s);
    }
  }
  return out;
}


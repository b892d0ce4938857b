/**
 * Pure rules for TWS market-data ticks: which option-computation ticks count, how IB's
 * "not computed yet" sentinels become null, and when a tick is malformed.
 * Decision record: specs/ibkr.md ("Transport tws").
 */

/** TWS tick type ids used here (TickType in @stoqey/ib; kept local so the rules stay pure). */
export const TICK = {
  BID: 1,
  ASK: 2,
  LAST: 4,
  BID_OPTION: 10,
  ASK_OPTION: 11,
  LAST_OPTION: 12,
  MODEL_OPTION: 13,
  DELAYED_BID: 66,
  DELAYED_ASK: 67,
  DELAYED_LAST: 68,
  DELAYED_BID_OPTION: 80,
  DELAYED_ASK_OPTION: 81,
  DELAYED_LAST_OPTION: 82,
  DELAYED_MODEL_OPTION: 83,
} as const;

/**
 * Rank of an option-computation source, higher is better; null = not a computation tick.
 * TWS computes greeks from the model price (13) and also from bid, ask and last prices
 * (10/11/12); the model is the one a risk view wants, the others are a fallback for when no
 * model tick has arrived (yet). Delayed variants (80-83) rank just below their live twins.
 */
export function computationRank(tickType: number): number | null {
  switch (tickType) {
    case TICK.MODEL_OPTION: return 8;
    case TICK.DELAYED_MODEL_OPTION: return 7;
    case TICK.LAST_OPTION: return 6;
    case TICK.DELAYED_LAST_OPTION: return 5;
    case TICK.BID_OPTION:
    case TICK.ASK_OPTION: return 4;
    case TICK.DELAYED_BID_OPTION:
    case TICK.DELAYED_ASK_OPTION: return 3;
    default: return null;
  }
}

export function isModelRank(rank: number): boolean {
  return rank >= 7;
}

/** Which quote field a price tick updates, or null for ticks we do not use (close, high, ...). */
export function priceField(tickType: number): 'bid' | 'ask' | 'last' | null {
  switch (tickType) {
    case TICK.BID:
    case TICK.DELAYED_BID: return 'bid';
    case TICK.ASK:
    case TICK.DELAYED_ASK: return 'ask';
    case TICK.LAST:
    case TICK.DELAYED_LAST: return 'last';
    default: return null;
  }
}

export interface RawComputation {
  impliedVol?: number;
  delta?: number;
  optPrice?: number;
  gamma?: number;
  vega?: number;
  theta?: number;
  undPrice?: number;
}

export interface OptionComputation {
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  vega: number | null;
  theta: number | null;
  optPrice: number | null;
  undPrice: number | null;
}

export type Cleaned<T> = { ok: true; value: T } | { ok: false; reason: string };

/**
 * One wire value → number | null. IB marks "not computed yet" with -1 (prices, IV) or -2
 * (delta, gamma, vega, theta) and "unset" with Double.MAX_VALUE; @stoqey/ib turns some, not
 * all, of these into undefined. NaN means the field was not a number at all: malformed.
 */
function clean(v: number | undefined, sentinel: number): number | null | 'nan' {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || Number.isNaN(v)) return 'nan';
  if (!Number.isFinite(v) || v === sentinel || Math.abs(v) >= Number.MAX_VALUE) return null;
  return v;
}

export function cleanComputation(raw: RawComputation): Cleaned<OptionComputation> {
  const fields: [keyof OptionComputation, number | undefined, number][] = [
    ['iv', raw.impliedVol, -1],
    ['delta', raw.delta, -2],
    ['gamma', raw.gamma, -2],
    ['vega', raw.vega, -2],
    ['theta', raw.theta, -2],
    ['optPrice', raw.optPrice, -1],
    ['undPrice', raw.undPrice, -1],
  ];
  const out = {} as OptionComputation;
  for (const [name, v, sentinel] of fields) {
    const c = clean(v, sentinel);
    if (c === 'nan') return { ok: false, reason: `tickOptionComputation: ${name} is not a number` };
    out[name] = c;
  }
  return { ok: true, value: out };
}

/** True when TWS sent the computation before it had any greek (IV and all greeks unknown). */
export function isEmptyComputation(c: OptionComputation): boolean {
  return c.iv === null && c.delta === null && c.gamma === null && c.vega === null && c.theta === null;
}

/** A tick price → number | null; -1 means "no price" (no bid, say). */
export function cleanPrice(price: number | undefined): Cleaned<number | null> {
  const c = clean(price, -1);
  if (c === 'nan') return { ok: false, reason: 'tickPrice: price is not a number' };
  return { ok: true, value: c };
}

/** A stable signature of one computation, to recognise a repeated (duplicate) update. */
export function computationSignature(tickType: number, c: OptionComputation): string {
  return [tickType, c.iv, c.delta, c.gamma, c.vega, c.theta, c.optPrice, c.undPrice].join('|');
}

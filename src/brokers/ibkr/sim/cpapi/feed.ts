/**
 * What the simulated gateway writes on `smd+<conid>`: strings only, only the fields that
 * changed since the last frame on that socket, the first frame empty, prices before greeks.
 * Pure functions over a per-subscription state; the server owns time and sockets.
 */
import type { SimGreeks } from '../../../simbook.js';

export const GREEK_IDS = ['7633', '7308', '7309', '7310', '7311'] as const;

export interface Subscription {
  conid: number;
  subscribedAt: number;
  /** Data frames sent so far (the empty first frame not counted). */
  frames: number;
  /** What the client has been told, field by field (its merged view). */
  told: Record<string, string>;
}

export interface RecordedGreeks {
  conid: number;
  contractKey: string;
  eventTs: number;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
}

/** The full field set of an option right now, as the gateway would format it. */
export function optionFields(g: SimGreeks, undConid: number): Record<string, string> {
  const spread = Math.max(0.01, Math.round(g.price * 0.01 * 100) / 100);
  return {
    '31': g.price.toFixed(2),
    '84': Math.max(0, g.price - spread).toFixed(2),
    '86': (g.price + spread).toFixed(2),
    '7635': g.price.toFixed(2),
    '6457': String(undConid),
    '7633': `${(g.iv * 100).toFixed(1)}%`,
    '7308': g.delta.toFixed(4),
    '7309': g.gamma.toFixed(5),
    '7310': g.theta.toFixed(4),
    '7311': g.vega.toFixed(4),
  };
}

export function underlyingFields(spot: number): Record<string, string> {
  return { '31': spot.toFixed(2), '84': (spot - 0.01).toFixed(2), '86': (spot + 0.01).toFixed(2) };
}

/**
 * The next data frame's fields for a subscription. The first data frame carries prices only
 * (with `last` as yesterday's close, "C" prefix); greeks come from the second on. A changed
 * greek is sent with probability `partial` (else held back to a later frame) so clients must
 * merge; `full` sends every greek (used for out-of-order pairs, see server.ts).
 */
export function nextFrame(sub: Subscription, now: Record<string, string>, rand: () => number, opts: { partial: number; full: boolean }): Record<string, string> {
  const out: Record<string, string> = {};
  const isOption = '7308' in now;
  for (const [id, v] of Object.entries(now)) {
    const greek = (GREEK_IDS as readonly string[]).includes(id);
    if (greek && sub.frames === 0) continue;
    if (greek && !opts.full && sub.told[id] !== undefined && (sub.told[id] === v || rand() > opts.partial)) continue;
    if (!greek && sub.told[id] === v) continue;
    out[id] = id === '31' && sub.frames === 0 && isOption ? `C${v}` : v;
  }
  sub.frames++;
  for (const [id, v] of Object.entries(out)) sub.told[id] = id === '31' ? v.replace(/^C/, '') : v;
  return out;
}

/** The client's merged greeks after a frame, as numbers parsed like a client would. */
export function toldGreeks(sub: Subscription): Omit<RecordedGreeks, 'conid' | 'contractKey' | 'eventTs'> {
  const n = (id: string) => (sub.told[id] === undefined ? null : Number(sub.told[id]));
  const iv = sub.told['7633'];
  return {
    iv: iv === undefined ? null : Number(iv.replace('%', '')) / 100,
    delta: n('7308'),
    gamma: n('7309'),
    theta: n('7310'),
    vega: n('7311'),
  };
}

/**
 * The data plane's batches, packed (D86): greeks events (nearly all of the traffic) travel as
 * columns, their numbers in one Float64Array and their strings as indexes into a small dictionary,
 * and the typed arrays are transferred, not copied. Structured-cloning an object per event cost
 * the worker its serialisation and the main thread (where the processor lives) the
 * deserialisation of every field; unpacking builds each event with one object literal. Every
 * other kind of event goes as it is, and the batch keeps its order.
 * A number that is null travels with a flag, one that is undefined (an optional field not set)
 * with another, so an unpacked event equals the one packed (NaN included).
 */
import type { BrokerEvent, GreeksEvent } from '../core/types.js';

/** The numbers of a greeks event, in column order. */
const NUM_FIELDS = ['eventTs', 'seq', 'receivedAt', 'iv', 'delta', 'gamma', 'theta', 'vega', 'rho', 'bid', 'ask', 'mark', 'underlyingPrice'] as const;
const NUMS = NUM_FIELDS.length;
const TEXTS = 4;

export interface PackedEvents {
  /** Per event: 1 = the next greeks event of the columns, 0 = the next entry of `others`. */
  kinds: Uint8Array;
  others: BrokerEvent[];
  dict: string[];
  /** broker, contractKey, underlying, account (-1: none) per greeks event. */
  text: Int32Array;
  nums: Float64Array;
  /** Per number: 0 a number, 1 null, 2 undefined. */
  absent: Uint8Array;
}

export function packEvents(events: readonly BrokerEvent[]): { packed: PackedEvents; transfer: ArrayBuffer[] } {
  let g = 0;
  for (const e of events) if (e.kind === 'greeks') g++;
  const kinds = new Uint8Array(events.length);
  const others: BrokerEvent[] = [];
  const dict: string[] = [];
  const ids = new Map<string, number>();
  const text = new Int32Array(g * TEXTS);
  const nums = new Float64Array(g * NUMS);
  const absent = new Uint8Array(g * NUMS);
  const id = (s: string | undefined): number => {
    if (s === undefined) return -1;
    let i = ids.get(s);
    if (i === undefined) {
      i = dict.push(s) - 1;
      ids.set(s, i);
    }
    return i;
  };
  let k = 0;
  for (let i = 0; i < events.length; i++) {
    const e = events[i];
    if (e.kind !== 'greeks') {
      others.push(e);
      continue;
    }
    kinds[i] = 1;
    text[k * TEXTS] = id(e.broker);
    text[k * TEXTS + 1] = id(e.contractKey);
    text[k * TEXTS + 2] = id(e.underlying);
    text[k * TEXTS + 3] = id(e.account);
    const o = k * NUMS;
    for (let j = 0; j < NUMS; j++) put(nums, absent, o + j, e[NUM_FIELDS[j]]);
    k++;
  }
  return { packed: { kinds, others, dict, text, nums, absent }, transfer: [text.buffer, nums.buffer, absent.buffer, kinds.buffer] as ArrayBuffer[] };
}

function put(nums: Float64Array, absent: Uint8Array, at: number, v: number | null | undefined): void {
  if (typeof v === 'number') nums[at] = v;
  else absent[at] = v === null ? 1 : 2;
}

export function unpackEvents(p: PackedEvents): BrokerEvent[] {
  const out = new Array<BrokerEvent>(p.kinds.length);
  const { dict, text, nums, absent } = p;
  const num = (at: number): number | null | undefined => (absent[at] === 0 ? nums[at] : absent[at] === 1 ? null : undefined);
  let k = 0;
  let o = 0;
  for (let i = 0; i < p.kinds.length; i++) {
    if (p.kinds[i] === 0) {
      out[i] = p.others[o++];
      continue;
    }
    const t = k * TEXTS;
    const n = k * NUMS;
    const account = text[t + 3];
    const e: GreeksEvent = {
      kind: 'greeks', broker: dict[text[t]], contractKey: dict[text[t + 1]], underlying: dict[text[t + 2]],
      eventTs: num(n) as number, seq: num(n + 1) as number, receivedAt: num(n + 2) as number,
      iv: num(n + 3) as number, delta: num(n + 4) as number, gamma: num(n + 5) as number, theta: num(n + 6) as number,
      vega: num(n + 7) as number, rho: num(n + 8) as number,
      bid: num(n + 9), ask: num(n + 10), mark: num(n + 11), underlyingPrice: num(n + 12),
    };
    if (account >= 0) e.account = dict[account];
    out[i] = e;
    k++;
  }
  return out;
}

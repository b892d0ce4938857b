/**
 * Snapshot rows packed for a trip to the writer thread: the numbers in one Float64Array
 * (transferred, not copied), the four text columns as indexes into a small dictionary (a batch
 * has few distinct brokers, accounts, underlyings and contracts). Packing is a few array
 * writes per row on the main thread; rendering the SQL parameters happens in the writer.
 * null/undefined numbers travel as NaN, missing text as -1, so a row that was invalid before
 * packing is just as invalid after (validateSnapshots rejects it in the writer).
 */
import type { GreekSnapshot } from '../core/types.js';

const TEXT = ['broker', 'account', 'contractKey', 'underlying'] as const;
const NUM = ['eventTs', 'seq', 'receivedAt', 'quantity', 'multiplier', 'bid', 'ask', 'mark', 'underlyingPrice', 'iv', 'delta', 'gamma', 'theta', 'vega', 'rho'] as const;
/** Columns that may be null in a stored row (the others are required and validated). */
const NULLABLE = new Set<string>(['bid', 'ask', 'mark', 'underlyingPrice', 'iv', 'delta', 'gamma', 'theta', 'vega', 'rho']);

export interface PackedSnapshots {
  n: number;
  dict: string[];
  text: Int32Array;
  nums: Float64Array;
}

export function packSnapshots(rows: GreekSnapshot[]): PackedSnapshots {
  const n = rows.length;
  const dict: string[] = [];
  const ids = new Map<string, number>();
  const text = new Int32Array(n * TEXT.length);
  const nums = new Float64Array(n * NUM.length);
  for (let i = 0; i < n; i++) {
    const r = rows[i] as unknown as Record<string, unknown>;
    for (let c = 0; c < TEXT.length; c++) {
      const v = r[TEXT[c]];
      let id = -1;
      if (typeof v === 'string') {
        id = ids.get(v) ?? -1;
        if (id < 0) {
          id = dict.push(v) - 1;
          ids.set(v, id);
        }
      }
      text[i * TEXT.length + c] = id;
    }
    for (let c = 0; c < NUM.length; c++) {
      const v = r[NUM[c]];
      nums[i * NUM.length + c] = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    }
  }
  return { n, dict, text, nums };
}

export function unpackSnapshots(p: PackedSnapshots): GreekSnapshot[] {
  const out = new Array<GreekSnapshot>(p.n);
  for (let i = 0; i < p.n; i++) {
    const r: Record<string, unknown> = {};
    for (let c = 0; c < TEXT.length; c++) {
      const id = p.text[i * TEXT.length + c];
      r[TEXT[c]] = id < 0 ? undefined : p.dict[id];
    }
    for (let c = 0; c < NUM.length; c++) {
      const v = p.nums[i * NUM.length + c];
      r[NUM[c]] = Number.isNaN(v) && NULLABLE.has(NUM[c]) ? null : v;
    }
    out[i] = r as unknown as GreekSnapshot;
  }
  return out;
}

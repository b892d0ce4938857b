/**
 * Merged per-conid field cache. The gateway sends only the fields that changed, so the full
 * picture of a contract is the merge of every frame so far. Each field remembers the `_updated`
 * time it came with, so a late (out-of-order) frame never overwrites a newer value, and a short
 * history of greek snapshots lets a late frame be completed with the greeks of its own time.
 */
import { GREEK_FIELDS, PRICE_FIELDS, parseField, isKnownField, FIELD } from './fields.js';

export type GreekValues = Record<(typeof GREEK_FIELDS)[number], number | null>;

interface Cell {
  v: number;
  ts: number;
}

interface Snapshot {
  ts: number;
  greeks: GreekValues;
}

/** How many past greek snapshots a conid keeps for completing late frames. */
const HISTORY = 32;

export interface MergeResult {
  ts: number;
  /** Set when the frame carried at least one greek field: the full greeks at `ts`. */
  greeks: GreekValues | null;
  /** Set when the frame carried at least one price field. */
  pricesChanged: boolean;
  /** Field 6457 when the frame carried it. */
  undConid: number | null;
  /** The frame is older than the newest frame seen for this conid. */
  late: boolean;
}

export class ConidFieldCache {
  private cells = new Map<string, Cell>();
  private history: Snapshot[] = [];
  private newestTs = -Infinity;

  /** Latest known value of a field, or null. */
  value(id: string): number | null {
    return this.cells.get(id)?.v ?? null;
  }

  currentGreeks(): GreekValues {
    const g = {} as GreekValues;
    for (const id of GREEK_FIELDS) g[id] = this.value(id);
    return g;
  }

  /**
   * Merges one frame's raw fields (strings or numbers keyed by field id) stamped `ts`.
   * Unreadable values are skipped as if not sent: an empty string is "no value yet", not zero.
   */
  merge(raw: Record<string, unknown>, ts: number): MergeResult {
    const parsed = new Map<string, number>();
    for (const [id, v] of Object.entries(raw)) {
      if (!isKnownField(id)) continue;
      const n = parseField(id, v);
      if (n !== null) parsed.set(id, n);
    }
    const late = ts < this.newestTs;
    const hasGreek = GREEK_FIELDS.some((id) => parsed.has(id));
    const base = late ? this.greeksAt(ts) : this.currentGreeks();

    for (const [id, v] of parsed) {
      const cell = this.cells.get(id);
      if (!cell || ts >= cell.ts) this.cells.set(id, { v, ts });
    }
    if (ts > this.newestTs) this.newestTs = ts;

    let greeks: GreekValues | null = null;
    if (hasGreek) {
      greeks = { ...base };
      for (const id of GREEK_FIELDS) if (parsed.has(id)) greeks[id] = parsed.get(id)!;
      this.remember(ts, greeks);
    }
    const und = raw[FIELD.undConid];
    const undConid = und === undefined ? null : Number(und);
    return {
      ts,
      greeks,
      pricesChanged: PRICE_FIELDS.some((id) => parsed.has(id)),
      undConid: undConid !== null && Number.isInteger(undConid) && undConid > 0 ? undConid : null,
      late,
    };
  }

  /** The greeks as they stood at `ts`: the newest snapshot not after it, else the current ones. */
  private greeksAt(ts: number): GreekValues {
    for (let i = this.history.length - 1; i >= 0; i--) {
      if (this.history[i].ts <= ts) return { ...this.history[i].greeks };
    }
    return this.currentGreeks();
  }

  private remember(ts: number, greeks: GreekValues): void {
    const h = this.history;
    let i = h.length;
    while (i > 0 && h[i - 1].ts > ts) i--;
    if (i > 0 && h[i - 1].ts === ts) h[i - 1] = { ts, greeks };
    else h.splice(i, 0, { ts, greeks });
    if (h.length > HISTORY) h.shift();
  }
}

/**
 * The broker sequence of a greeks update: a 31-bit FNV-1a hash of its values. `_updated` has
 * millisecond resolution and no sequence, so two frames with the same `_updated` and the same
 * values hash alike (a duplicate the processor drops) while different values at the same
 * `_updated` get different sequences (both kept), whatever order they arrive in.
 */
export function greeksSeq(g: GreekValues): number {
  const text = GREEK_FIELDS.map((id) => (g[id] === null ? '' : String(g[id]))).join('|');
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) & 0x7fffffff;
}

/**
 * Duplicate and ordering rules, per (broker, account, contract):
 * - an update with the same event time and sequence as one already seen is a duplicate;
 * - an update older than the newest seen is out of order: stored, but it never becomes "latest".
 * The window of remembered (event_ts, seq) pairs is bounded per contract; a duplicate older than
 * the window is still caught by the database's unique key (ON CONFLICT DO NOTHING) and counted there.
 */
export type Verdict = 'new-latest' | 'out-of-order' | 'duplicate';

/**
 * What one stream (broker, account, contract) has seen: the newest update and a bounded window of
 * recent ones. The window is two number rings (no string per update, no Set): an update newer than
 * the newest cannot be a repeat, so the common in-order case is a compare and two array writes;
 * only an older one scans the window (D86).
 */
export class SeenWindow {
  private latestTs = -Infinity;
  private latestSeq = -Infinity;
  /** Remembered (event_ts, seq) pairs in arrival order; grown as needed up to `size`, then a ring. */
  private ts = new Float64Array(8);
  private seqs = new Float64Array(8);
  private n = 0;
  private next = 0;

  constructor(private readonly size = 4096) {}

  /** Classifies an update and remembers it. */
  check(eventTs: number, seq: number): Verdict {
    const newer = isNewer(eventTs, seq, this.latestTs, this.latestSeq);
    if (!newer && this.has(eventTs, seq)) return 'duplicate';
    this.remember(eventTs, seq);
    if (newer) {
      this.latestTs = eventTs;
      this.latestSeq = seq;
      return 'new-latest';
    }
    return 'out-of-order';
  }

  private has(eventTs: number, seq: number): boolean {
    const { ts, seqs, n } = this;
    for (let i = 0; i < n; i++) if (ts[i] === eventTs && seqs[i] === seq) return true;
    return false;
  }

  private remember(eventTs: number, seq: number): void {
    if (this.n < this.size) {
      if (this.n === this.ts.length) {
        const cap = Math.min(this.size, this.ts.length * 2);
        const ts = new Float64Array(cap);
        const seqs = new Float64Array(cap);
        ts.set(this.ts);
        seqs.set(this.seqs);
        this.ts = ts;
        this.seqs = seqs;
      }
      this.ts[this.n] = eventTs;
      this.seqs[this.n] = seq;
      this.n++;
      return;
    }
    this.ts[this.next] = eventTs;
    this.seqs[this.next] = seq;
    this.next = (this.next + 1) % this.size;
  }
}

/** True when (ts, seq) is strictly newer than (curTs, curSeq). */
export function isNewer(ts: number, seq: number, curTs: number, curSeq: number): boolean {
  return ts > curTs || (ts === curTs && seq > curSeq);
}

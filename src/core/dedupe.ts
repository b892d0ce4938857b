/**
 * Duplicate and ordering rules, per (broker, account, contract):
 * - an update with the same event time and sequence as one already seen is a duplicate;
 * - an update older than the newest seen is out of order: stored, but it never becomes "latest".
 * The window of remembered (event_ts, seq) pairs is bounded per contract; a duplicate older than
 * the window is still caught by the database's unique key (ON CONFLICT DO NOTHING) and counted there.
 */
export type Verdict = 'new-latest' | 'out-of-order' | 'duplicate';

/** What one stream (broker, account, contract) has seen: the newest update and a bounded window of recent ones. */
export class SeenWindow {
  private latestTs = -Infinity;
  private latestSeq = -Infinity;
  private recent = new Set<string>();
  /** The same ids in arrival order, as a ring: the oldest is evicted without allocating an iterator. */
  private ring: string[] = [];
  private next = 0;

  constructor(private readonly size = 4096) {}

  /** Classifies an update and remembers it. */
  check(eventTs: number, seq: number): Verdict {
    const id = `${eventTs}:${seq}`;
    if (this.recent.has(id)) return 'duplicate';
    this.recent.add(id);
    if (this.ring.length < this.size) this.ring.push(id);
    else {
      this.recent.delete(this.ring[this.next]);
      this.ring[this.next] = id;
      this.next = (this.next + 1) % this.size;
    }
    if (isNewer(eventTs, seq, this.latestTs, this.latestSeq)) {
      this.latestTs = eventTs;
      this.latestSeq = seq;
      return 'new-latest';
    }
    return 'out-of-order';
  }
}

/** True when (ts, seq) is strictly newer than (curTs, curSeq). */
export function isNewer(ts: number, seq: number, curTs: number, curSeq: number): boolean {
  return ts > curTs || (ts === curTs && seq > curSeq);
}

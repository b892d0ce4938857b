/**
 * Duplicate and ordering rules, per (broker, account, contract):
 * - an update with the same event time and sequence as one already seen is a duplicate;
 * - an update older than the newest seen is out of order: stored, but it never becomes "latest".
 * The window of remembered (event_ts, seq) pairs is bounded per contract; a duplicate older than
 * the window is still caught by the database's unique key (ON CONFLICT DO NOTHING) and counted there.
 */
export type Verdict = 'new-latest' | 'out-of-order' | 'duplicate';

interface ContractSeen {
  latestTs: number;
  latestSeq: number;
  recent: Set<string>;
}

export class DedupeIndex {
  private seen = new Map<string, ContractSeen>();

  constructor(private readonly windowPerContract = 4096) {}

  /** Classifies an update and remembers it. */
  check(streamKey: string, eventTs: number, seq: number): Verdict {
    const id = `${eventTs}:${seq}`;
    let s = this.seen.get(streamKey);
    if (!s) {
      s = { latestTs: eventTs, latestSeq: seq, recent: new Set([id]) };
      this.seen.set(streamKey, s);
      return 'new-latest';
    }
    if (s.recent.has(id)) return 'duplicate';
    s.recent.add(id);
    if (s.recent.size > this.windowPerContract) {
      // Sets iterate in insertion order: drop the oldest remembered pair.
      s.recent.delete(s.recent.values().next().value as string);
    }
    if (eventTs > s.latestTs || (eventTs === s.latestTs && seq > s.latestSeq)) {
      s.latestTs = eventTs;
      s.latestSeq = seq;
      return 'new-latest';
    }
    return 'out-of-order';
  }

  get size(): number {
    return this.seen.size;
  }
}

/** True when (ts, seq) is strictly newer than (curTs, curSeq). */
export function isNewer(ts: number, seq: number, curTs: number, curSeq: number): boolean {
  return ts > curTs || (ts === curTs && seq > curSeq);
}

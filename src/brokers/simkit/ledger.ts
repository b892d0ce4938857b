/**
 * The ledger of a simulator: every unique update that really went out to a client, in send
 * order. It is the ground truth the integration tests compare the database with. One name in
 * every simulator: `ledger`.
 */
export class SentLedger<T> {
  private readonly seen = new Set<string>();
  private readonly list: T[] = [];
  private count = 0;

  /**
   * @param keyOf identity of an update: a second update with the same key is not a new entry
   * (duplicates and re-sends). Default: its JSON text.
   * @param retain false keeps only the count, without the duplicate check (high-rate
   * simulators whose every update is unique by construction).
   */
  constructor(
    private readonly keyOf: (entry: T) => string = (e) => JSON.stringify(e),
    private readonly retain = true,
  ) {}

  /** Records an update that went out; true when it was new. */
  record(entry: T): boolean {
    if (!this.retain) {
      this.count++;
      return true;
    }
    const key = this.keyOf(entry);
    if (this.seen.has(key)) return false;
    this.seen.add(key);
    this.list.push(entry);
    this.count++;
    return true;
  }

  /** Unique updates recorded so far. */
  get size(): number {
    return this.count;
  }

  /** Every unique update, in send order (a copy). */
  entries(): T[] {
    return [...this.list];
  }

  /** Entries grouped by a key (e.g. contract), each group in send order. */
  groupBy<K>(keyOf: (entry: T) => K): Map<K, T[]> {
    const out = new Map<K, T[]>();
    for (const e of this.list) {
      const k = keyOf(e);
      const g = out.get(k);
      if (g) g.push(e);
      else out.set(k, [e]);
    }
    return out;
  }
}

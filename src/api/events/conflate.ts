/**
 * Conflation: of many updates to one key between two flushes only the newest goes out. Pure
 * data structure; the hub decides when to take().
 */
export class Conflator<T> {
  private pending = new Map<string, T>();

  put(key: string, value: T): void {
    // delete first so the key moves to the end: take() returns keys in order of their last update
    this.pending.delete(key);
    this.pending.set(key, value);
  }

  get size(): number {
    return this.pending.size;
  }

  /** The newest value per key since the last take(), and an empty buffer. */
  take(): T[] {
    const out = [...this.pending.values()];
    this.pending.clear();
    return out;
  }
}

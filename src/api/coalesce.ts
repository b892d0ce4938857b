/**
 * Identical requests share one answer: while a computation for a key runs, every caller of that
 * key gets the same promise, and its result is kept for `ttlMs` after it settles (failures are
 * not kept). The timeline route uses it so that N pages (or a load test) polling the same range
 * cost one query per `ttlMs`, not N (API_TIMELINE_CACHE_MS; D74).
 */
import type { Clock } from '../core/clock.js';

export class Coalescer<T> {
  private readonly entries = new Map<string, { value: Promise<T>; until: number }>();

  /** `costFactor`: a result that took D ms to compute is kept max(ttlMs, costFactor × D) ms. */
  constructor(private readonly o: { ttlMs: number; clock: Clock; maxKeys?: number; costFactor?: number }) {}

  get(key: string, compute: () => Promise<T>): Promise<T> {
    const now = this.o.clock.now();
    const hit = this.entries.get(key);
    if (hit && hit.until >= now) return hit.value;
    if (this.entries.size >= (this.o.maxKeys ?? 256)) this.prune(now);
    const entry = { value: compute(), until: Number.POSITIVE_INFINITY }; // in flight: shared until it settles
    this.entries.set(key, entry);
    entry.value.then(
      () => {
        const end = this.o.clock.now();
        entry.until = end + Math.max(this.o.ttlMs, (this.o.costFactor ?? 0) * (end - now));
      },
      () => this.entries.get(key) === entry && this.entries.delete(key),
    );
    return entry.value;
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (e.until < now) this.entries.delete(k);
    // Still full (every entry in flight or fresh): forget the oldest; its callers keep their promise.
    while (this.entries.size >= (this.o.maxKeys ?? 256)) this.entries.delete(this.entries.keys().next().value as string);
  }
}

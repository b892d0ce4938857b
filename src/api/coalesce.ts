/**
 * Identical requests share one answer (D74): while a computation for a key runs, every caller of
 * that key gets the same promise; its result is fresh for max(ttlMs, costFactor × the time it
 * took) after it settles; a failure with no earlier answer is given to identical callers for as
 * long (so a too-heavy query is not re-run by every request). Past that, up to `staleMs` old, a caller gets
 * the last answer at once while one refresh runs behind it (stale-while-revalidate), so a busy
 * heavy-read gate delays how new the answer is, not the answer. The heavy routes use it so that
 * N pages (or a load test) polling the same query cost one query per period, not N.
 */
import type { Clock } from '../core/clock.js';

export interface Shared<T> {
  value: T;
  /** Epoch ms the answer was computed (the route's Age header). */
  at: number;
}

interface Entry<T> {
  /** The computation in flight, if any. */
  running?: Promise<Shared<T>>;
  last?: Shared<T>;
  freshUntil: number;
  /** The last computation failed (and there is no answer to fall back on): callers get its error until then. */
  failed?: { err: unknown; until: number };
}

export class Coalescer<T> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(private readonly o: { ttlMs: number; clock: Clock; staleMs?: number; maxKeys?: number; costFactor?: number }) {}

  get(key: string, compute: () => Promise<T>): Promise<Shared<T>> {
    const now = this.o.clock.now();
    let e = this.entries.get(key);
    if (e?.last && e.freshUntil >= now) return Promise.resolve(e.last);
    if (e?.failed && !e.last && !e.running && e.failed.until >= now) return Promise.reject(e.failed.err);
    const stale = e?.last && now - e.last.at <= (this.o.staleMs ?? 0) ? e.last : undefined;
    if (!e) {
      if (this.entries.size >= (this.o.maxKeys ?? 256)) this.prune(now);
      e = { freshUntil: 0 };
      this.entries.set(key, e);
    }
    const entry = e;
    if (!entry.running) {
      const started = now;
      entry.running = compute().then(
        (value) => {
          const end = this.o.clock.now();
          entry.last = { value, at: end };
          entry.failed = undefined;
          entry.freshUntil = end + Math.max(this.o.ttlMs, (this.o.costFactor ?? 0) * (end - started));
          entry.running = undefined;
          return entry.last;
        },
        (err: unknown) => {
          entry.running = undefined;
          // A read that failed (e.g. its statement timeout) is not repeated by the next identical
          // request at once: they get the same error for max(ttlMs, costFactor × what it cost).
          const end = this.o.clock.now();
          entry.failed = { err, until: end + Math.max(this.o.ttlMs, (this.o.costFactor ?? 0) * (end - started)) };
          throw err;
        },
      );
      // A refresh behind a stale answer has no caller to fail: its error only ends it.
      if (stale) entry.running.catch(() => undefined);
    }
    return stale ? Promise.resolve(stale) : entry.running;
  }

  private prune(now: number): void {
    const staleMs = this.o.staleMs ?? 0;
    for (const [k, e] of this.entries) {
      if (!e.running && (!e.last || now - e.last.at > staleMs) && e.freshUntil < now && (e.failed?.until ?? 0) < now) this.entries.delete(k);
    }
    // Still full: forget the oldest; callers of its computation keep their promise.
    while (this.entries.size >= (this.o.maxKeys ?? 256)) this.entries.delete(this.entries.keys().next().value as string);
  }
}

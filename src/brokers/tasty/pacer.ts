/**
 * Chunked, paced DXLink subscriptions for big books. A full chain in one FEED_SUBSCRIPTION
 * drops the connection on the real service (close 1009 "message too long"), and a burst of
 * many chunks at once is no kinder: the pacer holds the pending changes (latest intention per
 * subscription wins) and hands at most `chunk` of them to `send` every `paceMs`, the first
 * batch at once. `requeue` puts a set that must be sent again (a reconnect) ahead of what is
 * pending, so the whole set comes back, paced, after every reconnect. Timers go through the clock.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { subKey, type Sub } from './subscriptions.js';

export interface SubscriptionBatch {
  add: Sub[];
  remove: Sub[];
}

export interface PacerOptions {
  clock: Clock;
  /** Most subscriptions (adds + removes) in one batch = one FEED_SUBSCRIPTION message. */
  chunk: number;
  /** Pause between two batches. */
  paceMs: number;
  send(batch: SubscriptionBatch): void;
}

export interface PacerStats {
  /** Subscription changes not yet sent. */
  pending: number;
  /** Batches (messages) sent so far. */
  batches: number;
  /** Largest batch sent. */
  largestBatch: number;
}

export class SubscriptionPacer {
  private pending = new Map<string, { op: 'add' | 'remove'; sub: Sub }>();
  private timer: TimerHandle | null = null;
  private lastSentAt = -Infinity;
  private closed = false;
  private batches = 0;
  private largest = 0;

  constructor(private readonly opts: PacerOptions) {}

  add(subs: Sub[]): void {
    for (const s of subs) this.put('add', s);
    this.schedule();
  }

  remove(subs: Sub[]): void {
    for (const s of subs) this.put('remove', s);
    this.schedule();
  }

  /** Drops every pending change and queues `subs` as the whole set. */
  replaceAll(subs: Sub[]): void {
    this.pending.clear();
    this.add(subs);
  }

  /**
   * Subscriptions to send again on a fresh connection (the server has none of them), ahead of
   * newer pending changes; the first batch on the new connection goes at once.
   */
  requeue(subs: Sub[]): void {
    this.lastSentAt = -Infinity;
    if (this.timer !== null) this.opts.clock.clearTimeout(this.timer);
    this.timer = null;
    const next = new Map<string, { op: 'add' | 'remove'; sub: Sub }>();
    for (const s of subs) {
      const k = subKey(s);
      if (!this.pending.has(k)) next.set(k, { op: 'add', sub: s });
    }
    for (const [k, v] of this.pending) next.set(k, v);
    this.pending = next;
    this.schedule();
  }

  stats(): PacerStats {
    return { pending: this.pending.size, batches: this.batches, largestBatch: this.largest };
  }

  close(): void {
    this.closed = true;
    this.pending.clear();
    if (this.timer !== null) this.opts.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  private put(op: 'add' | 'remove', sub: Sub): void {
    const k = subKey(sub);
    // Re-inserting moves the key to the end: the latest intention goes out in order.
    this.pending.delete(k);
    this.pending.set(k, { op, sub });
  }

  private schedule(): void {
    if (this.closed || this.timer !== null || this.pending.size === 0) return;
    // Due now: the batch goes synchronously (no timer, so small books need no clock at all).
    while (this.pending.size > 0 && this.opts.clock.now() >= this.lastSentAt + this.opts.paceMs) {
      this.flushOne();
      if (this.opts.paceMs > 0) break;
    }
    if (this.closed || this.pending.size === 0) return;
    const wait = Math.max(1, this.lastSentAt + this.opts.paceMs - this.opts.clock.now());
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null;
      this.schedule();
    }, wait);
  }

  private flushOne(): void {
    if (this.closed || this.pending.size === 0) return;
    const batch: SubscriptionBatch = { add: [], remove: [] };
    const n = Math.max(1, this.opts.chunk);
    let taken = 0;
    for (const [k, { op, sub }] of this.pending) {
      if (taken >= n) break;
      (op === 'add' ? batch.add : batch.remove).push(sub);
      this.pending.delete(k);
      taken++;
    }
    this.lastSentAt = this.opts.clock.now();
    this.batches++;
    this.largest = Math.max(this.largest, taken);
    this.opts.send(batch);
  }
}

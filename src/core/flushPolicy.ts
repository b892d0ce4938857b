import type { Logger } from 'pino';
import { backoffDelay, EQUAL_JITTER } from './backoff.js';
import type { Clock, TimerHandle } from './clock.js';
import { JournalUnavailableError, type Journal } from './journal.js';
import { errorText } from './errors.js';

/**
 * The flush policy: rows wait in a bounded queue and go to the database in batches when
 *  - `maxRows` are pending, or
 *  - `intervalMs` has passed since the oldest pending row was queued, or
 *  - the writer is idle (`eagerWhenIdle`: no batch in flight) — group commit: a lone update
 *    does not wait for the timer, and under load batches still fill up while one is in flight;
 * with at most `maxInFlight` batches in flight. Retryable failures put the batch back at the
 * front and back off (exponential, jittered); a failure that names the rows themselves
 * (`isRetryable` false) bisects the batch to isolate the bad rows, which are reported
 * (`onRejected`: the caller dead-letters them), not silently lost. Past `maxPendingRows` the
 * newest rows spill to the on-disk journal and are replayed when the queue has room again.
 * A journal that cannot be written is loud (stats, an error log) and never loses the rows it
 * was given: they stay in memory and the spill is tried again later.
 */
export interface FlushOptions {
  /** Flush trigger: this many rows pending. */
  maxRows: number;
  /**
   * Largest batch taken at once. Equal to maxRows unless a backlog built up while every
   * in-flight slot was busy: then one statement takes up to this many rows (group commit),
   * which cuts per-statement cost exactly when the database is the bottleneck.
   */
  maxBatchRows: number;
  intervalMs: number;
  maxInFlight: number;
  eagerWhenIdle: boolean;
  maxPendingRows: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export const DEFAULT_FLUSH: FlushOptions = {
  maxRows: 50,
  maxBatchRows: 500,
  intervalMs: 1000,
  maxInFlight: 8,
  eagerWhenIdle: true,
  maxPendingRows: 50_000,
  retryBaseMs: 100,
  retryMaxMs: 5000,
};

export interface BatchResult {
  inserted: number;
  duplicates: number;
  /** When the database confirmed the batch, if the writer knows better than "when this thread heard of it" (the writer thread). */
  at?: number;
}

export interface FlushHooks<T> {
  write(rows: T[]): Promise<BatchResult>;
  isRetryable(err: unknown): boolean;
  onWritten?(rows: T[], result: BatchResult, at: number): void;
  onRejected?(row: T, err: unknown): void;
  /** A write succeeded after failures: the database takes writes again (other writers may retry now). */
  onRecovered?(): void;
}

export interface FlushStats {
  pending: number;
  inFlight: number;
  batches: number;
  rowsWritten: number;
  duplicates: number;
  rejected: number;
  retries: number;
  consecutiveFailures: number;
  journaledRows: number;
  spilledRows: number;
  lastError: string | null;
  /** Journal appends that failed (disk full, folder gone, read-only): the rows stayed in memory. */
  journalWriteErrors: number;
  lastJournalError: string | null;
  /** Journal lines found invalid on replay (moved aside), and segments set aside as unreadable. */
  journalBadLines: number;
  journalSetAside: number;
}

/** What a shutdown spill did: rows journaled, and rows lost because the journal refused them. */
export interface SpillReport {
  journaled: number;
  lost: number;
  error: string | null;
}

class RowQueue<T> {
  private items: T[] = [];
  private times: number[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(item: T, at: number): void {
    this.items.push(item);
    this.times.push(at);
  }
  oldestAt(): number | undefined {
    return this.length > 0 ? this.times[this.head] : undefined;
  }
  take(n: number): T[] {
    const out = this.items.slice(this.head, this.head + n);
    this.head += out.length;
    if (this.head > 4096 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
    return out;
  }
  /** Puts rows back at the front (a failed batch keeps its place). */
  unshift(rows: T[], at: number): void {
    if (this.head >= rows.length) {
      this.head -= rows.length;
      for (let i = 0; i < rows.length; i++) {
        this.items[this.head + i] = rows[i];
        this.times[this.head + i] = at;
      }
    } else {
      this.items = rows.concat(this.items.slice(this.head));
      this.times = rows.map(() => at).concat(this.times.slice(this.head));
      this.head = 0;
    }
  }
  /** Removes and returns the newest n rows. */
  takeNewest(n: number): T[] {
    const k = Math.min(n, this.length);
    this.times.length -= k;
    return this.items.splice(this.items.length - k, k);
  }
}

export class Flusher<T extends object> {
  private queue = new RowQueue<T>();
  private inFlight = 0;
  private inFlightBatches = new Set<T[]>();
  private spilledBatches = new WeakSet<T[]>();
  private timer: TimerHandle | undefined;
  private timerAt = 0;
  private retryAt = 0;
  private draining = false;
  /** After close() nothing is launched or retried: the rows left were journaled by spillAll(). */
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  private segmentOf = new WeakMap<T, string>();
  private segmentLeft = new Map<string, number>();
  private segmentSize = new Map<string, number>();
  /** Rows of journal segments currently loaded in the queue (cheap check, no directory reads on the hot path). */
  private loadedRows = 0;
  /** After a failed journal append, the next spill waits until then (no retry storm per add). */
  private journalRetryAt = 0;
  /** After the journal folder could not be listed or read, the next replay waits until then. */
  private replayRetryAt = 0;
  private replayErrors = 0;
  private s: FlushStats = {
    pending: 0, inFlight: 0, batches: 0, rowsWritten: 0, duplicates: 0, rejected: 0, retries: 0,
    consecutiveFailures: 0, journaledRows: 0, spilledRows: 0, lastError: null,
    journalWriteErrors: 0, lastJournalError: null, journalBadLines: 0, journalSetAside: 0,
  };

  constructor(
    private readonly hooks: FlushHooks<T>,
    private readonly opts: FlushOptions,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly journal?: Journal,
  ) {
    if (journal && journal.segments().length > 0) {
      log.info({ rows: journal.rowsOnDisk, segments: journal.segments().length }, 'journal found: replaying rows from an earlier run');
      this.armTimer(clock.now());
    }
  }

  add(rows: T[]): void {
    const now = this.clock.now();
    for (const r of rows) this.queue.push(r, now);
    if (this.queue.length > this.opts.maxPendingRows) this.spill();
    this.pump();
  }

  /** Rows queued and not yet in flight (cheap: for back-pressure checks on the hot path). */
  get pendingRows(): number {
    return this.queue.length;
  }

  stats(): FlushStats {
    const jh = this.journal?.health();
    return {
      ...this.s, pending: this.queue.length, inFlight: this.inFlight, journaledRows: this.journal?.rowsOnDisk ?? 0,
      journalBadLines: jh?.badLines ?? 0, journalSetAside: jh?.setAside ?? 0,
    };
  }

  /** True while writes are failing (the last batch attempt failed and is waiting to be retried). */
  get failing(): boolean {
    return this.s.consecutiveFailures > 0;
  }

  /**
   * Puts a durable copy of rows into the journal now (fsynced when this returns) and lets the
   * replay write them when the database takes writes. For callers that must answer "accepted"
   * before the database did (POST /v1/trades while it is down). Throws when the journal refuses.
   */
  journalNow(rows: T[]): void {
    if (!this.journal) throw new JournalUnavailableError('no journal configured');
    try {
      this.journal.append(rows);
    } catch (err) {
      this.journalFailed(err, rows.length);
      throw new JournalUnavailableError(errorText(err), { cause: err });
    }
    this.s.spilledRows += rows.length;
    this.armTimer(this.clock.now());
  }

  /** Writes everything pending (and the journal), ignoring the interval; resolves when all is written. */
  async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0 || this.inFlight > 0 || this.journalWaiting()) {
        await new Promise<void>((resolve) => {
          this.idleWaiters.push(resolve);
          this.pump();
        });
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Last resort at shutdown when the database does not come back in time: everything pending
   * goes to the journal (in-flight batches too: replaying them is harmless, writes are idempotent).
   * Returns the number of rows journaled.
   */
  spillAll(): SpillReport {
    const rows = this.queue.take(this.queue.length);
    for (const batch of this.inFlightBatches) {
      // A second spill at stop must not journal (or count as lost) the same in-flight batch twice.
      if (this.spilledBatches.has(batch)) continue;
      this.spilledBatches.add(batch);
      rows.push(...batch);
    }
    if (rows.length === 0) return { journaled: 0, lost: 0, error: null };
    if (!this.journal) return { journaled: 0, lost: rows.length, error: 'no journal configured' };
    try {
      this.journal.append(rows);
    } catch (err) {
      this.journalFailed(err, rows.length);
      return { journaled: 0, lost: rows.length, error: this.s.lastJournalError };
    }
    this.s.spilledRows += rows.length;
    this.settleSegments(rows);
    return { journaled: rows.length, lost: 0, error: null };
  }

  /**
   * Another writer to the same database just succeeded: stop waiting out the backoff and retry
   * now. Without it a writer that failed more often (a longer backoff) stays "failing" for up to
   * `retryMaxMs` after the database is back, and a stop in that window journals what it holds.
   */
  retryNow(): void {
    if (this.closed || this.s.consecutiveFailures === 0 || this.inFlight > 0) return;
    this.retryAt = 0;
    this.pump();
  }

  close(): void {
    this.closed = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private journalWaiting(): boolean {
    return !!this.journal && this.journal.rowsOnDisk > this.loadedRows;
  }

  private spill(): void {
    if (!this.journal) return;
    const now = this.clock.now();
    if (now < this.journalRetryAt) return;
    // Hysteresis: spill down to half the bound so a sustained outage writes few, large segments.
    const excess = this.queue.length - Math.floor(this.opts.maxPendingRows / 2);
    const rows = this.queue.takeNewest(excess);
    try {
      this.journal.append(rows);
    } catch (err) {
      // Never lose what we hold: the rows go back (memory grows past the bound) and the spill
      // is tried again in a second; meanwhile status, metrics and the summary say so.
      for (const r of rows) this.queue.push(r, now);
      this.journalFailed(err, rows.length);
      this.journalRetryAt = now + 1000;
      return;
    }
    this.s.spilledRows += rows.length;
    // Rows replayed from a segment and spilled again now live in the new one: the old segment must not wait for them.
    this.settleSegments(rows);
    this.log.warn({ rows: rows.length, onDisk: this.journal.rowsOnDisk }, 'write queue full: rows spilled to the journal');
  }

  private journalFailed(err: unknown, rows: number): void {
    this.s.journalWriteErrors++;
    this.s.lastJournalError = errorText(err);
    if (this.s.journalWriteErrors === 1 || this.s.journalWriteErrors % 20 === 0) {
      this.log.error({ err: this.s.lastJournalError, rows, failures: this.s.journalWriteErrors, pending: this.queue.length },
        'JOURNAL WRITE FAILED: rows kept in memory only; a stop now would lose them (check JOURNAL_DIR: space, permissions)');
    }
  }

  /** Loads one journal segment back into the queue when there is room and the database is healthy. */
  private replay(): void {
    if (!this.journal || this.s.consecutiveFailures > 0 || !this.journalWaiting()) return;
    if (this.queue.length > this.opts.maxPendingRows / 4) return;
    const now = this.clock.now();
    if (now < this.replayRetryAt) return;
    let seg: string | undefined;
    let rows: T[];
    try {
      seg = this.journal.segments().find((s) => !this.segmentLeft.has(s));
      if (!seg) return;
      rows = this.journal.read(seg) as T[];
    } catch (err) {
      // The journal folder itself cannot be listed (removed, replaced by a file, permissions): its
      // rows stay on disk for a later try or the next start; a throw here would end the process
      // with everything in memory.
      this.replayRetryAt = now + 1000;
      if (this.replayErrors++ % 20 === 0) {
        this.log.error({ err: errorText(err), onDisk: this.journal.rowsOnDisk }, 'journal folder not readable: its rows wait on disk; replay retried every second');
      }
      return;
    }
    if (rows.length === 0) {
      this.journal.remove(seg);
      return;
    }
    this.segmentLeft.set(seg, rows.length);
    this.segmentSize.set(seg, rows.length);
    this.loadedRows += rows.length;
    for (const r of rows) {
      this.segmentOf.set(r, seg);
      this.queue.push(r, now);
    }
    this.log.info({ segment: seg, rows: rows.length }, 'replaying journal segment');
  }

  private pump(): void {
    if (this.closed) return;
    const now = this.clock.now();
    if (now < this.retryAt) {
      this.armTimer(this.retryAt);
      return;
    }
    if (this.queue.length < this.opts.maxRows) this.replay();
    while (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) {
      const oldest = this.queue.oldestAt()!;
      const full = this.queue.length >= this.opts.maxRows;
      const due = now - oldest >= this.opts.intervalMs;
      const eager = this.opts.eagerWhenIdle && this.inFlight === 0;
      if (!(full || due || eager || this.draining)) break;
      this.launch(this.queue.take(Math.max(this.opts.maxRows, this.opts.maxBatchRows)));
    }
    if (this.queue.length > 0 && this.inFlight < this.opts.maxInFlight) {
      this.armTimer(this.queue.oldestAt()! + this.opts.intervalMs);
    }
    if (this.queue.length === 0 && this.inFlight === 0 && !this.journalWaiting()) {
      const waiters = this.idleWaiters.splice(0);
      for (const w of waiters) w();
    } else if (this.idleWaiters.length > 0 && this.inFlight === 0 && this.queue.length === 0) {
      // Journal segments remain: loop again soon to replay them.
      this.armTimer(Math.max(now, this.replayRetryAt));
    }
  }

  private armTimer(at: number): void {
    if (this.closed) return;
    if (this.timer && this.timerAt <= at) return;
    this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, Math.max(0, at - this.clock.now()));
  }

  private launch(batch: T[]): void {
    this.inFlight++;
    this.inFlightBatches.add(batch);
    this.writeIsolating(batch).then(
      () => {
        this.inFlight--;
        this.inFlightBatches.delete(batch);
        const recovered = this.s.consecutiveFailures > 0;
        this.s.consecutiveFailures = 0;
        this.s.lastError = null;
        this.pump();
        if (recovered) this.hooks.onRecovered?.();
      },
      (err: unknown) => {
        this.inFlight--;
        this.inFlightBatches.delete(batch);
        this.s.retries++;
        this.s.consecutiveFailures++;
        this.s.lastError = errorText(err);
        const delay = backoffDelay(this.s.consecutiveFailures - 1, { baseMs: this.opts.retryBaseMs, maxMs: this.opts.retryMaxMs, jitter: EQUAL_JITTER });
        this.retryAt = Math.max(this.retryAt, this.clock.now() + delay);
        if (this.s.consecutiveFailures === 1 || this.s.consecutiveFailures % 20 === 0) {
          this.log.warn({ err: this.s.lastError, failures: this.s.consecutiveFailures, retryInMs: Math.round(delay), pending: this.queue.length + batch.length }, 'batch write failed; keeping rows and retrying');
        }
        this.queue.unshift(batch, this.clock.now());
        if (this.queue.length > this.opts.maxPendingRows) this.spill();
        this.pump();
      },
    );
  }

  /** Writes a batch; on a permanent error splits it to find and report the bad rows. */
  private async writeIsolating(batch: T[]): Promise<void> {
    try {
      const result = await this.hooks.write(batch);
      this.s.batches++;
      this.s.rowsWritten += result.inserted;
      this.s.duplicates += result.duplicates;
      this.hooks.onWritten?.(batch, result, result.at ?? this.clock.now());
      this.settleSegments(batch);
    } catch (err) {
      if (this.hooks.isRetryable(err)) throw err;
      if (batch.length === 1) {
        this.s.rejected++;
        this.log.error({ err: errorText(err), row: batch[0] }, 'row rejected by the database (permanent error)');
        this.hooks.onRejected?.(batch[0], err);
        this.settleSegments(batch);
        return;
      }
      const mid = batch.length >> 1;
      await this.writeIsolating(batch.slice(0, mid));
      await this.writeIsolating(batch.slice(mid));
    }
  }

  private settleSegments(batch: T[]): void {
    if (!this.journal) return;
    for (const r of batch) {
      const seg = this.segmentOf.get(r);
      if (!seg) continue;
      this.segmentOf.delete(r);
      const left = (this.segmentLeft.get(seg) ?? 1) - 1;
      if (left <= 0) {
        this.segmentLeft.delete(seg);
        this.loadedRows -= this.segmentSize.get(seg) ?? 0;
        this.segmentSize.delete(seg);
        this.journal.remove(seg);
      } else this.segmentLeft.set(seg, left);
    }
  }
}

/**
 * TWS market-data lines for a book of any size (pure; timers through the clock).
 *
 * TWS refuses market data past the account's line allowance (error 101, 100 lines by default)
 * and paces requests at lines / 2 per second (error 100 past it). The scheduler keeps at most
 * `maxLines` requests open and sends at most `maxRequestsPerSec` reqMktData + cancelMktData in
 * any one-second window. When the book fits, every contract gets a line for good (streaming).
 * When it does not, lines rotate: a line is released as soon as its contract got Greeks (or
 * after `maxDwellMs` without), and the next waiting contract takes it, round-robin, so every
 * contract gets Greeks once per cycle. A 101 shrinks the allowance to the lines actually open
 * (TWS, Mobile and the Client Portal UI share it). Design note: specs/ibkr.md ("Line rotation").
 */
import type { Clock, TimerHandle } from '../../../core/clock.js';

export interface LineSchedulerOptions {
  clock: Clock;
  maxLines: number;
  /** reqMktData + cancelMktData per sliding second. */
  maxRequestsPerSec: number;
  /** A rotating line is released after this long even without Greeks. */
  maxDwellMs: number;
  open(contractKey: string): void;
  close(contractKey: string): void;
}

export interface LineStats {
  /** 'stream': every contract has a line for good; 'rotate': lines rotate over the book. */
  mode: 'stream' | 'rotate';
  contracts: number;
  /** Line allowance in use (maxLines, lower after a 101). */
  lines: number;
  openLines: number;
  /** Duration of the last full rotation cycle (every contract had its turn), seconds; null before the first, 0 when streaming. */
  refreshS: number | null;
  /** The cycle the rate and allowance allow: contracts x 2 requests / rate, seconds (0 when streaming). */
  targetRefreshS: number;
  /** Held contracts with Greeks since the start of the last completed cycle (or ever, when streaming). */
  contractsWithGreeks: number;
  cycles: number;
  /** 101 refusals seen. */
  refused: number;
}

interface Line {
  since: number;
  greeks: boolean;
}

export class LineScheduler {
  private wanted = new Set<string>();
  private queue: string[] = [];
  private readonly open = new Map<string, Line>();
  private budget: number;
  private sent: number[] = [];
  private timer: TimerHandle | null = null;
  private lastGreeks = new Map<string, number>();
  private cycleStart: number;
  private prevCycleStart: number | null = null;
  private cycleVisited = new Set<string>();
  private lastCycleMs: number | null = null;
  private cycles = 0;
  private refused = 0;
  private closed = false;
  private suspended = false;
  /** Open lines to close and send again (TWS dropped them: 1101, farm back, competing session). */
  private closing = new Set<string>();

  constructor(private readonly opts: LineSchedulerOptions) {
    this.budget = Math.max(1, opts.maxLines);
    this.cycleStart = opts.clock.now();
  }

  /** The held contracts (order = rotation order for new ones). */
  setContracts(keys: Iterable<string>): void {
    const next = new Set(keys);
    this.queue = this.queue.filter((k) => next.has(k));
    for (const k of next) if (!this.wanted.has(k) && !this.open.has(k)) this.queue.push(k);
    this.wanted = next;
    for (const k of this.cycleVisited) if (!next.has(k)) this.cycleVisited.delete(k);
    this.pump();
  }

  /** The session died: every line with it. Nothing is sent until resume(). */
  suspend(): void {
    this.suspended = true;
    this.open.clear();
    this.closing.clear();
    this.queue = [...this.wanted];
    this.clearTimer();
  }

  /** A session is ready: lines are handed out again (paced). */
  resume(): void {
    if (!this.suspended) return;
    this.suspended = false;
    this.pump();
  }

  /** Closes these contracts' lines and requests them again first (paced, like everything). */
  requeue(keys: Iterable<string>): void {
    for (const k of keys) if (this.open.has(k)) this.closing.add(k);
    this.pump();
  }

  /** Greeks arrived for a contract on a line. */
  gotGreeks(key: string): void {
    const line = this.open.get(key);
    if (!line) return;
    const now = this.opts.clock.now();
    line.greeks = true;
    this.lastGreeks.set(key, now);
    this.visited(key, now);
    this.pump();
  }

  /** TWS refused the line (101): the allowance is smaller than we thought. */
  refusedLine(key: string): void {
    this.closing.delete(key);
    if (!this.open.delete(key)) return;
    this.refused++;
    this.budget = Math.max(1, this.open.size);
    if (this.wanted.has(key)) this.queue.unshift(key);
    this.pump();
  }

  /** The request failed otherwise (pacing 100, no definition 200, ...): its turn is over. */
  failedLine(key: string): void {
    this.closing.delete(key);
    if (!this.open.delete(key)) return;
    if (this.wanted.has(key)) {
      this.queue.push(key);
      this.visited(key, this.opts.clock.now());
    }
    this.pump();
  }

  isOpen(key: string): boolean {
    return this.open.has(key);
  }

  stats(): LineStats {
    const rotating = this.wanted.size > this.budget;
    const since = rotating ? (this.prevCycleStart ?? this.cycleStart) : -Infinity;
    let withGreeks = 0;
    for (const k of this.wanted) if ((this.lastGreeks.get(k) ?? -Infinity) >= since) withGreeks++;
    return {
      mode: rotating ? 'rotate' : 'stream',
      contracts: this.wanted.size,
      lines: this.budget,
      openLines: this.open.size,
      refreshS: rotating ? (this.lastCycleMs === null ? null : this.lastCycleMs / 1000) : 0,
      targetRefreshS: rotating ? Math.round(((this.wanted.size * 2) / Math.max(1, this.opts.maxRequestsPerSec)) * 10) / 10 : 0,
      contractsWithGreeks: withGreeks,
      cycles: this.cycles,
      refused: this.refused,
    };
  }

  close(): void {
    this.closed = true;
    this.clearTimer();
  }

  // ---- internals ------------------------------------------------------------------------

  private visited(key: string, now: number): void {
    if (!this.wanted.has(key)) return;
    this.cycleVisited.add(key);
    if (this.cycleVisited.size >= this.wanted.size) {
      this.cycles++;
      this.lastCycleMs = now - this.cycleStart;
      this.prevCycleStart = this.cycleStart;
      this.cycleStart = now;
      this.cycleVisited.clear();
    }
  }

  /** Requests the rate allows now. */
  private allowance(now: number): number {
    while (this.sent.length > 0 && this.sent[0] <= now - 1000) this.sent.shift();
    return Math.max(0, this.opts.maxRequestsPerSec - this.sent.length);
  }

  private pump(): void {
    if (this.closed || this.suspended) return;
    const now = this.opts.clock.now();
    let room = this.allowance(now);
    let nextDwell = Infinity;
    // 1. lines of contracts no longer held, and lines to send again
    const again: string[] = [];
    for (const k of [...this.open.keys()]) {
      if (room === 0) break;
      const stale = this.closing.delete(k);
      if (this.wanted.has(k) && !stale) continue;
      this.open.delete(k);
      this.send(now, () => this.opts.close(k));
      room--;
      if (stale && this.wanted.has(k)) again.push(k);
    }
    this.queue.unshift(...again);
    // 2. rotation: a line whose contract had its turn goes to the next waiting contract
    if (this.queue.length > 0 && this.open.size >= this.budget) {
      for (const [k, line] of [...this.open]) {
        if (room < 2 || this.queue.length === 0 || this.open.size < this.budget) break;
        const due = line.since + this.opts.maxDwellMs;
        if (!line.greeks && now < due) {
          nextDwell = Math.min(nextDwell, due);
          continue;
        }
        if (!line.greeks) this.visited(k, now); // its turn ended without Greeks
        this.open.delete(k);
        this.send(now, () => this.opts.close(k));
        room--;
        if (this.wanted.has(k)) this.queue.push(k);
        // the freed line is taken in step 3
        const next = this.queue.shift()!;
        this.open.set(next, { since: now, greeks: false });
        this.send(now, () => this.opts.open(next));
        room--;
      }
    }
    // 3. free lines
    while (this.open.size < this.budget && this.queue.length > 0 && room > 0) {
      const next = this.queue.shift()!;
      this.open.set(next, { since: now, greeks: false });
      this.send(now, () => this.opts.open(next));
      room--;
    }
    this.scheduleNext(now, nextDwell);
  }

  private send(now: number, fn: () => void): void {
    this.sent.push(now);
    fn();
  }

  private scheduleNext(now: number, nextDwell: number): void {
    this.clearTimer();
    const blockedByRate =
      (this.queue.length > 0 && (this.open.size < this.budget || this.hasDoneLine())) || this.closing.size > 0 || [...this.open.keys()].some((k) => !this.wanted.has(k));
    let at = nextDwell;
    if (blockedByRate && this.sent.length > 0) at = Math.min(at, this.sent[0] + 1001);
    if (this.queue.length > 0 && this.open.size >= this.budget) {
      // wake for the earliest dwell deadline of a line still waiting for Greeks
      for (const line of this.open.values()) if (!line.greeks) at = Math.min(at, line.since + this.opts.maxDwellMs);
    }
    if (!Number.isFinite(at)) return;
    this.timer = this.opts.clock.setTimeout(() => {
      this.timer = null;
      this.pump();
    }, Math.max(1, at - now));
  }

  private hasDoneLine(): boolean {
    for (const line of this.open.values()) if (line.greeks) return true;
    return false;
  }

  private clearTimer(): void {
    if (this.timer !== null) this.opts.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}

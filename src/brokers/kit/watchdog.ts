/**
 * Liveness by silence, on the Clock: every inbound message calls touch(); a check every `tickMs`
 * calls onSilence once the last one is older than `boundMs` (the protocol's heartbeat bound).
 * The owner decides what silence means (degraded, then rebuild). Silence of one illiquid symbol
 * is not a dead feed: touch on any inbound frame, heartbeats included, not only on data.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';

export interface WatchdogOptions {
  boundMs: number;
  /** How often silence is checked; default boundMs / 3. */
  tickMs?: number;
  /** Called on each check that finds silence past the bound (the owner usually stops or re-arms). */
  onSilence(silentMs: number): void;
  /**
   * Called on every check that found no silence: a protocol deadline checked at the same cadence
   * (e.g. "connected but still not authorized").
   */
  onCheck?(): void;
}

export class Watchdog {
  private last = 0;
  private timer: TimerHandle | undefined;
  readonly tickMs: number;

  constructor(private readonly clock: Clock, private readonly o: WatchdogOptions) {
    this.tickMs = o.tickMs ?? Math.max(1, Math.floor(o.boundMs / 3));
  }

  /** Starts (or restarts) watching; the silence is counted from now. */
  start(): void {
    this.stop();
    this.last = this.clock.now();
    this.timer = this.clock.setInterval(() => this.check(), this.tickMs);
  }

  stop(): void {
    this.clock.clearInterval(this.timer);
    this.timer = undefined;
  }

  get running(): boolean {
    return this.timer !== undefined;
  }

  /** Something arrived. */
  touch(at = this.clock.now()): void {
    this.last = at;
  }

  silentFor(): number {
    return this.clock.now() - this.last;
  }

  /** True when past the bound (the check the timer runs; exposed for owners that tick themselves). */
  expired(): boolean {
    return this.silentFor() > this.o.boundMs;
  }

  private check(): void {
    if (this.expired()) this.o.onSilence(this.silentFor());
    else this.o.onCheck?.();
  }
}

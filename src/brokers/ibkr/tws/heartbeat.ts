/**
 * Liveness of a TWS socket. TWS sends nothing when nothing changes, so silence alone proves
 * nothing; instead we ask `reqCurrentTime` every interval and expect `currentTime` back within
 * a bound. A half-open socket or a hung TWS fails that check, and the stream reconnects.
 */
import type { Clock, TimerHandle } from '../../../core/clock.js';

export interface HeartbeatOptions {
  intervalMs: number;
  /** How long a reply may take; default min(interval, 10 s). */
  replyTimeoutMs?: number;
  ping(): void;
  onTimeout(waitedMs: number): void;
}

export class Heartbeat {
  private interval: TimerHandle | undefined;
  private deadline: TimerHandle | undefined;
  private sentAt: number | null = null;
  readonly replyTimeoutMs: number;

  constructor(private readonly clock: Clock, private readonly opts: HeartbeatOptions) {
    this.replyTimeoutMs = opts.replyTimeoutMs ?? Math.min(opts.intervalMs, 10_000);
  }

  start(): void {
    this.stop();
    this.interval = this.clock.setInterval(() => this.beat(), this.opts.intervalMs);
  }

  /** A `currentTime` reply arrived. */
  ack(): void {
    this.sentAt = null;
    this.clock.clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  stop(): void {
    this.clock.clearInterval(this.interval);
    this.clock.clearTimeout(this.deadline);
    this.interval = this.deadline = undefined;
    this.sentAt = null;
  }

  get awaitingReply(): boolean {
    return this.sentAt !== null;
  }

  private beat(): void {
    // A reply still outstanding keeps its first deadline: re-arming would let a hung TWS live forever.
    if (this.sentAt !== null) return;
    this.sentAt = this.clock.now();
    this.opts.ping();
    this.deadline = this.clock.setTimeout(() => {
      const waited = this.clock.now() - (this.sentAt ?? this.clock.now());
      this.stop();
      this.opts.onTimeout(waited);
    }, this.replyTimeoutMs);
  }
}

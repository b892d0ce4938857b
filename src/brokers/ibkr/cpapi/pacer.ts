/**
 * Paced socket commands for the Client Portal websocket (smd/umd). A big book subscribes
 * hundreds of conids; the gateway paces REST at about 10 requests/s and publishes no figure for
 * the socket, so market-data commands go out at most `perSec` in any one-second window (the
 * first ones at once), latest command per conid wins. Timers through the clock.
 */
import type { Clock, TimerHandle } from '../../../core/clock.js';

export class PacedCommands {
  private pending = new Map<number, string>();
  private sent: number[] = [];
  private timer: TimerHandle | null = null;
  private peak = 0;

  constructor(private readonly clock: Clock, private readonly perSec: number, private readonly send: (text: string) => void) {}

  /** Queues a command for a conid (replacing one still queued for it) and sends what the pace allows. */
  push(conid: number, text: string): void {
    this.pending.delete(conid);
    this.pending.set(conid, text);
    this.flush();
  }

  /** The socket is gone: nothing queued for it may reach the next one. */
  clear(): void {
    this.pending.clear();
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
  }

  stats(): { pending: number; peakPerSec: number } {
    return { pending: this.pending.size, peakPerSec: this.peak };
  }

  private flush(): void {
    if (this.timer !== null) return;
    const now = this.clock.now();
    while (this.sent.length > 0 && this.sent[0] <= now - 1000) this.sent.shift();
    for (const [conid, text] of this.pending) {
      if (this.sent.length >= this.perSec) break;
      this.pending.delete(conid);
      this.sent.push(now);
      this.send(text);
    }
    this.peak = Math.max(this.peak, this.sent.length);
    if (this.pending.size === 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.flush();
    }, Math.max(1, this.sent[0] + 1000 - now));
  }
}

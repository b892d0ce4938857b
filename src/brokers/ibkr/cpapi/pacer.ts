/**
 * Paced socket commands for the Client Portal websocket (smd/umd). A big book subscribes
 * hundreds of conids; the gateway paces REST at about 10 requests/s and publishes no figure for
 * the socket, so market-data commands go out evenly: at most perSec / 10 in any 100 ms (the
 * first ones at once), latest command per conid wins. Timers through the clock.
 */
import type { Clock, TimerHandle } from '../../../core/clock.js';

export class PacedCommands {
  private pending = new Map<number, string>();
  private sent: number[] = [];
  private timer: TimerHandle | null = null;
  private peak = 0;
  private readonly perSlot: number;

  constructor(private readonly clock: Clock, perSec: number, private readonly send: (text: string) => void) {
    this.perSlot = Math.max(1, Math.ceil(perSec / 10));
  }

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

  /** Queued commands, and the most sent in one 100 ms slot. */
  stats(): { pending: number; peakPerSlot: number } {
    return { pending: this.pending.size, peakPerSlot: this.peak };
  }

  private flush(): void {
    if (this.timer !== null) return;
    const now = this.clock.now();
    while (this.sent.length > 0 && this.sent[0] <= now - 100) this.sent.shift();
    for (const [conid, text] of this.pending) {
      if (this.sent.length >= this.perSlot) break;
      this.pending.delete(conid);
      this.sent.push(now);
      this.send(text);
    }
    this.peak = Math.max(this.peak, this.sent.length);
    if (this.pending.size === 0) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = null;
      this.flush();
    }, Math.max(1, this.sent[0] + 100 - now));
  }
}

/**
 * The one reconnect schedule: after a loss, wait backoffDelay(attempt) on the Clock, then try
 * again; a connection that became healthy resets the attempt count. At most one retry is pending.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { backoffDelay, type BackoffPolicy } from '../../core/backoff.js';

export interface ReconnectOptions {
  policy: BackoffPolicy;
  random?: () => number;
  /** The first retry after a healthy connection goes at once (no delay) when true. */
  immediateFirst?: boolean;
}

export class Reconnector {
  private n = 0;
  private timer: TimerHandle | undefined;

  constructor(private readonly clock: Clock, private readonly o: ReconnectOptions) {}

  /** Failed attempts since the last healthy connection. */
  get attempt(): number {
    return this.n;
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }

  /** The delay the next schedule() will wait, and counts the attempt. */
  nextDelay(): number {
    const a = this.n++;
    if (this.o.immediateFirst) return a === 0 ? 0 : backoffDelay(a - 1, this.o.policy, this.o.random);
    return backoffDelay(a, this.o.policy, this.o.random);
  }

  /** Runs `retry` after `delay` (default: the next backoff delay) on the Clock. Replaces a pending retry. */
  schedule(retry: () => void, delay = this.nextDelay()): number {
    this.cancel();
    const handle = this.clock.setTimeout(() => {
      if (this.timer === handle) this.timer = undefined;
      retry();
    }, delay);
    this.timer = handle;
    return delay;
  }

  /** The connection is healthy again: the next loss starts from the base delay. */
  succeeded(): void {
    this.n = 0;
  }

  cancel(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

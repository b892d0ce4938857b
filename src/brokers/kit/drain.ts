import type { Clock } from '../../core/clock.js';

/**
 * Waits `ms` on the Clock. Used by stop(): after the last unsubscribe, keep reading a moment so
 * that what the server sent before it saw the unsubscribe is still stored.
 */
export function drain(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => void clock.setTimeout(resolve, ms));
}

/**
 * The clock of unit tests: ManualClock (src/core/clock.ts) plus advanceAsync(), which also lets
 * promise continuations run between steps, for async code under test.
 */
import { ManualClock } from '../../src/core/clock.js';

export class FakeClock extends ManualClock {
  /** advance() and then let promise continuations run, repeatedly, for async code under test. */
  async advanceAsync(ms: number, step = ms): Promise<void> {
    let left = ms;
    while (left > 0) {
      const d = Math.min(step, left);
      this.advance(d);
      left -= d;
      for (let i = 0; i < 10; i++) await Promise.resolve();
      await new Promise((r) => setImmediate(r));
    }
  }
}

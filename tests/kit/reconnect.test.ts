import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { Reconnector } from '../../src/brokers/kit/reconnect.js';

const exact = { baseMs: 100, maxMs: 800, jitter: { min: 1, max: 1 } };

describe('reconnect schedule on fake time', () => {
  it('retries after 100, 200, 400, 800, 800 ms while the connection keeps failing', () => {
    const clock = new FakeClock();
    const r = new Reconnector(clock, { policy: exact });
    const at: number[] = [];
    const t0 = clock.now();
    const fail = () => {
      at.push(clock.now() - t0);
      if (at.length < 5) r.schedule(fail);
    };
    r.schedule(fail);
    clock.advance(10_000);
    expect(at).toEqual([100, 300, 700, 1_500, 2_300]);
    expect(r.attempt).toBe(5);
  });

  it('starts again from the base delay after a healthy connection', () => {
    const clock = new FakeClock();
    const r = new Reconnector(clock, { policy: exact });
    r.nextDelay();
    r.nextDelay();
    r.succeeded();
    expect(r.schedule(() => {})).toBe(100);
  });

  it('keeps at most one retry pending, and a cancelled one never runs', () => {
    const clock = new FakeClock();
    const r = new Reconnector(clock, { policy: exact });
    let runs = 0;
    r.schedule(() => runs++);
    r.schedule(() => runs++);
    expect(clock.pending()).toBe(1);
    clock.advance(1_000);
    expect(runs).toBe(1);
    expect(r.pending).toBe(false);
    r.schedule(() => runs++);
    r.cancel();
    clock.advance(1_000);
    expect(runs).toBe(1);
    expect(clock.pending()).toBe(0);
  });

  it('immediateFirst: the first retry after a loss goes at once, then the backoff', () => {
    const clock = new FakeClock();
    const r = new Reconnector(clock, { policy: exact, immediateFirst: true });
    expect([r.nextDelay(), r.nextDelay(), r.nextDelay()]).toEqual([0, 100, 200]);
  });
});

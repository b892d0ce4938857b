import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { Watchdog } from '../../src/brokers/kit/watchdog.js';

describe('liveness watchdog on fake time', () => {
  it('says nothing while messages keep arriving within the bound', () => {
    const clock = new FakeClock();
    const silences: number[] = [];
    const w = new Watchdog(clock, { boundMs: 3_000, tickMs: 1_000, onSilence: (s) => silences.push(s) });
    w.start();
    for (let i = 0; i < 10; i++) {
      clock.advance(2_000);
      w.touch();
    }
    expect(silences).toEqual([]);
  });

  it('reports silence at the first check past the bound', () => {
    const clock = new FakeClock();
    const silences: number[] = [];
    const w = new Watchdog(clock, { boundMs: 3_000, tickMs: 1_000, onSilence: (s) => (silences.push(s), w.stop()) });
    w.start();
    clock.advance(3_000);
    expect(silences).toEqual([]);
    clock.advance(1_000);
    expect(silences).toEqual([4_000]);
    expect(w.running).toBe(false);
    expect(clock.pending()).toBe(0);
  });

  it('counts silence from start(), not from an old connection', () => {
    const clock = new FakeClock();
    const silences: number[] = [];
    const w = new Watchdog(clock, { boundMs: 3_000, onSilence: (s) => silences.push(s) });
    clock.advance(60_000);
    w.start();
    expect(w.tickMs).toBe(1_000);
    clock.advance(3_000);
    expect(silences).toEqual([]);
  });
});

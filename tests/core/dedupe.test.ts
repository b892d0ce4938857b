import { describe, expect, it } from 'vitest';
import { SeenWindow } from '../../src/core/dedupe.js';

/** One window per stream key, as the processor keeps them. */
class Windows {
  private seen = new Map<string, SeenWindow>();
  constructor(private readonly size = 4096) {}
  check(key: string, ts: number, seq: number) {
    let w = this.seen.get(key);
    if (!w) this.seen.set(key, (w = new SeenWindow(this.size)));
    return w.check(ts, seq);
  }
}

describe('duplicate and ordering rules', () => {
  it('marks the same event time and sequence as a duplicate', () => {
    const d = new Windows();
    expect(d.check('k', 1000, 1)).toBe('new-latest');
    expect(d.check('k', 1000, 1)).toBe('duplicate');
  });

  it('treats a new sequence at the same time as a new update', () => {
    const d = new Windows();
    d.check('k', 1000, 1);
    expect(d.check('k', 1000, 2)).toBe('new-latest');
  });

  it('classifies an older update as out of order, and it does not move the latest', () => {
    const d = new Windows();
    d.check('k', 2000, 0);
    expect(d.check('k', 1000, 0)).toBe('out-of-order');
    expect(d.check('k', 1500, 0)).toBe('out-of-order');
    expect(d.check('k', 2001, 0)).toBe('new-latest');
  });

  it('keeps contracts apart', () => {
    const d = new Windows();
    d.check('a', 1000, 0);
    expect(d.check('b', 1000, 0)).toBe('new-latest');
  });

  it('forgets pairs beyond the window (the database key catches those)', () => {
    const d = new Windows(2);
    d.check('k', 1, 0);
    d.check('k', 2, 0);
    d.check('k', 3, 0);
    expect(d.check('k', 1, 0)).toBe('out-of-order');
    expect(d.check('k', 3, 0)).toBe('duplicate');
  });
});

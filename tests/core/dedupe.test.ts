import { describe, expect, it } from 'vitest';
import { DedupeIndex } from '../../src/core/dedupe.js';

describe('duplicate and ordering rules', () => {
  it('marks the same event time and sequence as a duplicate', () => {
    const d = new DedupeIndex();
    expect(d.check('k', 1000, 1)).toBe('new-latest');
    expect(d.check('k', 1000, 1)).toBe('duplicate');
  });

  it('treats a new sequence at the same time as a new update', () => {
    const d = new DedupeIndex();
    d.check('k', 1000, 1);
    expect(d.check('k', 1000, 2)).toBe('new-latest');
  });

  it('classifies an older update as out of order, and it does not move the latest', () => {
    const d = new DedupeIndex();
    d.check('k', 2000, 0);
    expect(d.check('k', 1000, 0)).toBe('out-of-order');
    expect(d.check('k', 1500, 0)).toBe('out-of-order');
    expect(d.check('k', 2001, 0)).toBe('new-latest');
  });

  it('keeps contracts apart', () => {
    const d = new DedupeIndex();
    d.check('a', 1000, 0);
    expect(d.check('b', 1000, 0)).toBe('new-latest');
  });

  it('forgets pairs beyond the window (the database key catches those)', () => {
    const d = new DedupeIndex(2);
    d.check('k', 1, 0);
    d.check('k', 2, 0);
    d.check('k', 3, 0);
    expect(d.check('k', 1, 0)).toBe('out-of-order');
    expect(d.check('k', 3, 0)).toBe('duplicate');
  });
});

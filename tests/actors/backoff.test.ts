import { describe, expect, it } from 'vitest';
import { backoffDelay } from '../../src/core/backoff.js';
import { SUPERVISOR_BACKOFF } from '../../src/actors/supervisor.js';

describe('supervisor restart backoff', () => {
  const opts = SUPERVISOR_BACKOFF;

  it('is 500 ms doubling to 30 s', () => expect(opts).toMatchObject({ baseMs: 500, maxMs: 30_000 }));

  it('doubles per attempt with jitter in [d/2, d]', () => {
    expect(backoffDelay(0, opts, () => 0)).toBe(250);
    expect(backoffDelay(0, opts, () => 1)).toBe(500);
    expect(backoffDelay(3, opts, () => 0)).toBe(2000);
    expect(backoffDelay(3, opts, () => 1)).toBe(4000);
  });

  it('is capped at the maximum however many attempts failed', () => {
    expect(backoffDelay(50, opts, () => 1)).toBe(30_000);
    expect(backoffDelay(50, opts, () => 0)).toBe(15_000);
  });

  it('spreads restarts of many actors instead of synchronising them', () => {
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(4, opts)));
    expect(delays.size).toBeGreaterThan(10);
  });
});

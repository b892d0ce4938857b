import { describe, expect, it } from 'vitest';
import { backoffDelay, EQUAL_JITTER, FULL_JITTER, TASTY_JITTER } from '../../src/core/backoff.js';

describe('the one backoff', () => {
  it('doubles per attempt from the base and stops at the cap', () => {
    const p = { baseMs: 100, maxMs: 1_000, jitter: { min: 1, max: 1 } };
    expect([0, 1, 2, 3, 4, 5, 40].map((a) => backoffDelay(a, p))).toEqual([100, 200, 400, 800, 1_000, 1_000, 1_000]);
  });

  it('full jitter (the default) spreads the delay over [0, nominal]', () => {
    const p = { baseMs: 1_000, maxMs: 30_000 };
    expect(backoffDelay(2, p, () => 0)).toBe(0);
    expect(backoffDelay(2, p, () => 0.5)).toBe(2_000);
    expect(backoffDelay(2, p, () => 0.999999)).toBe(4_000);
    expect(backoffDelay(2, { ...p, jitter: FULL_JITTER }, () => 0.25)).toBe(1_000);
  });

  it('equal jitter never goes below half the nominal delay', () => {
    const p = { baseMs: 500, maxMs: 30_000, jitter: EQUAL_JITTER };
    expect(backoffDelay(3, p, () => 0)).toBe(2_000);
    expect(backoffDelay(3, p, () => 0.999999)).toBe(4_000);
  });

  it('a spread around the nominal delay can go above it', () => {
    expect(backoffDelay(0, { baseMs: 1_000, maxMs: 30_000, jitter: TASTY_JITTER }, () => 0.999999)).toBe(1_200);
  });

  it('uses the injected randomness, and real randomness spreads clients apart', () => {
    const p = { baseMs: 500, maxMs: 30_000 };
    expect(new Set(Array.from({ length: 20 }, () => backoffDelay(5, p))).size).toBeGreaterThan(10);
    let calls = 0;
    backoffDelay(1, p, () => (calls++, 0.3));
    expect(calls).toBe(1);
  });

  it('treats a negative attempt as the first', () => {
    expect(backoffDelay(-3, { baseMs: 100, maxMs: 1_000, jitter: { min: 1, max: 1 } })).toBe(100);
  });
});

import { describe, expect, it } from 'vitest';
import { blackScholes, normCdf } from '../../src/risk/bs.js';

describe('Black–Scholes against Hull (Options, Futures, and Other Derivatives)', () => {
  it('normal CDF matches tabulated values', () => {
    expect(normCdf(0)).toBeCloseTo(0.5, 7);
    expect(normCdf(1.96)).toBeCloseTo(0.9750021, 6);
    expect(normCdf(-1)).toBeCloseTo(0.1586553, 6);
  });

  it('example 15.6: S=42, K=40, r=10%, σ=20%, T=0.5 → call 4.76, put 0.81', () => {
    const base = { spot: 42, strike: 40, years: 0.5, vol: 0.2, rate: 0.1, carry: 0.1 };
    expect(blackScholes({ ...base, right: 'C' }).price).toBeCloseTo(4.76, 2);
    expect(blackScholes({ ...base, right: 'P' }).price).toBeCloseTo(0.81, 2);
  });

  it('Greeks example (S=49, K=50, r=5%, σ=20%, 20 weeks): Δ 0.522, Γ 0.066, Θ −4.31/yr, vega 12.1, rho 8.91', () => {
    const g = blackScholes({ right: 'C', spot: 49, strike: 50, years: 20 / 52, vol: 0.2, rate: 0.05, carry: 0.05 });
    expect(g.price).toBeCloseTo(2.4, 2);
    expect(g.delta).toBeCloseTo(0.522, 3);
    expect(g.gamma).toBeCloseTo(0.066, 3);
    expect(g.theta * 365).toBeCloseTo(-4.31, 2); // we report per calendar day
    expect(g.vega * 100).toBeCloseTo(12.1, 1); // we report per IV point
    expect(g.rho * 100).toBeCloseTo(8.91, 2);
  });

  it('Black-76 futures option: F=K=20, r=9%, σ=25%, 4 months → put 1.12', () => {
    const p = blackScholes({ right: 'P', spot: 20, strike: 20, years: 4 / 12, vol: 0.25, rate: 0.09, carry: 0 });
    expect(p.price).toBeCloseTo(1.12, 2);
    const c = blackScholes({ right: 'C', spot: 20, strike: 20, years: 4 / 12, vol: 0.25, rate: 0.09, carry: 0 });
    expect(c.price).toBeCloseTo(p.price, 10); // at the money forward: put-call parity with F = K
  });

  it('at expiry: intrinsic value and a step delta', () => {
    expect(blackScholes({ right: 'C', spot: 105, strike: 100, years: 0, vol: 0.2, rate: 0.05, carry: 0.05 })).toMatchObject({ price: 5, delta: 1, gamma: 0 });
    expect(blackScholes({ right: 'P', spot: 105, strike: 100, years: -1, vol: 0.2, rate: 0.05, carry: 0.05 })).toMatchObject({ price: 0, delta: 0 });
  });
});

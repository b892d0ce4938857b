/**
 * Risk numbers for a futures position and a futures option, hand-computed (risk.md): future
 * delta = qty × multiplier (points), FOP delta = Δ × qty × multiplier; BWD = delta × β × S / S_SPY
 * with β from market metrics of the future's product (/ES), a RISK_RULES_FILE override winning.
 */
import { describe, expect, it } from 'vitest';
import { betaEntryOf, betaTo } from '../../src/risk/beta.js';
import { buildRiskReport } from '../../src/risk/report.js';
import type { BetaEntry } from '../../src/risk/types.js';
import { inputs, mkt, pos } from '../risk/fixtures.js';

const F = 5250; // /ESH7
const SPY = 525;

describe('futures and futures options in the risk engine', () => {
  const fut = pos('/ESH7', 2, 5237.5, { underlying: '/ESH7', multiplier: 50, assetClass: 'future' });
  const fop = pos('./ESH7 EW3F7 270115P5100', 3, 48.5, { underlying: '/ESH7', multiplier: 50, assetClass: 'option' });
  const fopMarket = mkt({ bid: 40, ask: 41, underlyingPrice: F, delta: -0.25, gamma: 0.0009, theta: -1.8, vega: 6.5, iv: 0.17 });

  it('market-metrics beta of /ES weights /ESH7: delta, $delta, BWD, P&L by hand', () => {
    const betas = new Map<string, BetaEntry>([['/ES', { beta: 1.02, source: 'market_metrics' }]]);
    const r = buildRiskReport(inputs([fut, fop], [null, fopMarket], { '/ESH7': F, SPY }, { betas }));
    const f = r.positions.find((p) => p.instrument === 'future')!;
    const o = r.positions.find((p) => p.instrument === 'future_option')!;
    // Future: 2 × 50 = 100 points; $delta 100 × 5250 = 525,000; BWD 100 × 1.02 × 5250 / 525 = 1020 SPY shares.
    expect(f.delta).toBe(100);
    expect(f.dollarDelta).toBe(525_000);
    expect(f.bwd).toBeCloseTo(1020, 9);
    expect(f.unrealizedPnl).toBeCloseTo((5250 - 5237.5) * 2 * 50, 9); // 1250
    expect(f.gamma).toBeNull();
    // FOP: −0.25 × 3 × 50 = −37.5; gamma 0.0009 × 150 = 0.135; theta −270; vega 975.
    expect(o.delta).toBeCloseTo(-37.5, 12);
    expect(o.gamma).toBeCloseTo(0.135, 12);
    expect(o.theta).toBeCloseTo(-270, 12);
    expect(o.vega).toBeCloseTo(975, 12);
    expect(o.dollarDelta).toBeCloseTo(-37.5 * 5250, 6);
    expect(o.bwd).toBeCloseTo(-37.5 * 1.02 * 5250 / 525, 9); // −382.5
    expect(o.mark).toBe(40.5); // mid
    expect(o.unrealizedPnl).toBeCloseTo((40.5 - 48.5) * 3 * 50, 9); // −1200
    // The underlying /ESH7 sums both, with the β used listed under its own symbol.
    const u = r.underlyings.find((x) => x.underlying === '/ESH7')!;
    expect(u.delta).toBeCloseTo(62.5, 12);
    expect(u.bwd).toBeCloseTo(637.5, 9);
    expect(r.betas).toContainEqual({ symbol: '/ESH7', beta: 1.02, betaSpy: 1.02, source: 'market_metrics' });
    expect(r.unweighted).toEqual([]);
  });

  it('an override wins over market metrics; without any β the future is listed unweighted, never β = 1', () => {
    const betas = new Map<string, BetaEntry>([['/ES', { beta: 1.02, source: 'market_metrics' }]]);
    betas.set('/ES', { beta: 0.9, source: 'config' }); // what load.ts does: overrides set after metrics
    expect(betaEntryOf('/ESH7', betas)).toEqual({ beta: 0.9, source: 'config' });
    const own = new Map<string, BetaEntry>([['/ES', { beta: 1.02, source: 'market_metrics' }], ['/ESH7', { beta: 0.95, source: 'config' }]]);
    expect(betaTo('/ESH7', 'SPY', own)).toBe(0.95); // a per-contract override beats the product's
    const r = buildRiskReport(inputs([fut], [null], { '/ESH7': F, SPY }, { betas }));
    expect(r.positions[0].bwd).toBeCloseTo(100 * 0.9 * 5250 / 525, 9); // 900
    const none = buildRiskReport(inputs([fut], [null], { '/ESH7': F, SPY }));
    expect(none.positions[0].bwd).toBeNull();
    expect(none.positions[0].delta).toBe(100); // still counts in delta
    expect(none.unweighted).toEqual(['/ESH7']);
  });
});

import { describe, expect, it } from 'vitest';
import { blackScholes } from '../../src/risk/bs.js';
import { buildRiskReport } from '../../src/risk/report.js';
import { scenarioGrid, positionScenarioPnl } from '../../src/risk/scenarios.js';
import { inputs, mkt, pos } from './fixtures.js';

const opts = { rate: 0.04, dividendYield: () => 0, mode: 'underlying' as const };

describe('what-if grid', () => {
  const call = pos('SPY   261218C00520000', 2, 10);
  const stock = pos('SPY', -100, 520);
  const r = buildRiskReport(inputs([call, stock], [mkt({ mark: 12, underlyingPrice: 520, iv: 0.2, delta: 0.55, gamma: 0.012, theta: -0.15, vega: 0.6 }), null], { SPY: 520 }));
  const option = r.positions.find((p) => p.instrument === 'option')!;

  it('full revaluation is the Black–Scholes price change × qty × mult; Taylor uses the stored Greeks', () => {
    const res = positionScenarioPnl(option, opts);
    if (typeof res === 'string') throw new Error(res);
    const T = option.dte! / 365;
    const base = { right: 'C' as const, strike: 520, rate: 0.04, carry: 0.04 };
    const now = blackScholes({ ...base, spot: 520, vol: 0.2, years: T }).price;
    // cell order: moves × shifts × days; +5 % (index 7), IV +5 (index 2), +1 day (index 1)
    const i = (7 * 3 + 2) * 2 + 1;
    const after = blackScholes({ ...base, spot: 546, vol: 0.25, years: T - 1 / 365 }).price;
    expect(res.full[i]).toBeCloseTo((after - now) * 200, 8);
    // Δ·dS + ½Γ·dS² + Θ·1 + V·5 with position Greeks 110, 2.4, -30, 120
    expect(res.taylor[i]).toBeCloseTo(110 * 26 + 0.5 * 2.4 * 26 * 26 - 30 + 120 * 5, 8);
    const zero = (4 * 3 + 1) * 2; // 0 %, IV 0, 0 days
    expect(res.full[zero]).toBeCloseTo(0, 10);
    expect(res.taylor[zero]).toBe(0);
  });

  it('stock is linear in both columns; per underlying and portfolio rows; beta mode scales the move', () => {
    const grid = scenarioGrid(r.positions, opts);
    const row = (s: string, m: number) => grid.rows.find((x) => x.subject === s && x.spotMovePct === m && x.ivShiftPts === 0 && x.days === 0)!;
    expect(grid.rows).toHaveLength(2 * 9 * 3 * 2);
    const stockOnly = scenarioGrid(r.positions.filter((p) => p.instrument === 'stock'), opts);
    const s10 = stockOnly.rows.find((x) => x.spotMovePct === 10 && x.ivShiftPts === 0 && x.days === 0)!;
    expect(s10.pnlFull).toBeCloseTo(-5200, 9); // -100 × 520 × 10 %
    expect(s10.pnlTaylor).toBeCloseTo(-5200, 9);
    expect(row('portfolio', 10).pnlFull).toBeCloseTo(row('SPY', 10).pnlFull, 9);
    const halfBeta = r.positions.map((p) => ({ ...p, beta: 0.5 }));
    const b = scenarioGrid(halfBeta, { ...opts, mode: 'beta' });
    const u = scenarioGrid(r.positions, { ...opts, spotMovesPct: [5] });
    expect(b.rows.find((x) => x.subject === 'portfolio' && x.spotMovePct === 10 && x.ivShiftPts === 0 && x.days === 0)!.pnlFull)
      .toBeCloseTo(u.rows.find((x) => x.subject === 'portfolio' && x.ivShiftPts === 0 && x.days === 0)!.pnlFull, 8);
    const noBeta = scenarioGrid(r.positions.map((p) => ({ ...p, beta: null })), { ...opts, mode: 'beta' });
    expect(noBeta.rows).toHaveLength(0);
    expect(noBeta.excluded.map((e) => e.reason)).toEqual(['no beta', 'no beta']);
  });

  it('futures options revalue with Black-76 (no carry) at multiplier 50', () => {
    const fo = pos('./ESH7 EW4G7 270226C5750', 1, 100, { underlying: '/ESH7', multiplier: 50, assetClass: 'option' });
    const rr = buildRiskReport(inputs([fo], [mkt({ mark: 150, underlyingPrice: 5800, iv: 0.18 })], { '/ESH7': 5800 }));
    const res = positionScenarioPnl(rr.positions[0], opts);
    if (typeof res === 'string') throw new Error(res);
    const T = rr.positions[0].dte! / 365;
    const b76 = (f: number) => blackScholes({ right: 'C', strike: 5750, rate: 0.04, carry: 0, spot: f, vol: 0.18, years: T }).price;
    expect(res.full[(8 * 3 + 1) * 2]).toBeCloseTo((b76(5800 * 1.1) - b76(5800)) * 50, 6);
  });
});

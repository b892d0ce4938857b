import { describe, expect, it } from 'vitest';
import { buildRiskReport } from '../../src/risk/report.js';
import { riskJson } from '../../src/risk/json.js';
import { inputs, mkt, NOW, pos } from './fixtures.js';
import { marketKey } from '../../src/risk/types.js';

// Hand-computed: every expected number below is worked out in the comment beside it.
describe('position risk and sums (risk.md)', () => {
  it('covered call: stock counts in delta; strategy credit, max profit/loss, breakeven', () => {
    const stock = pos('SPY', 100, 515);
    const call = pos('SPY   261218C00530000', -1, 3.0);
    const r = buildRiskReport(inputs([stock, call], [null, mkt({ mark: 2.0, underlyingPrice: 520, delta: 0.3, gamma: 0.02, theta: -0.05, vega: 0.4, iv: 0.2 })], { SPY: 520 }));
    const [s, c] = [r.positions.find((p) => p.instrument === 'stock')!, r.positions.find((p) => p.instrument === 'option')!];
    expect(s).toMatchObject({ delta: 100, dollarDelta: 52_000, gamma: null, mark: 520, markSource: 'underlying', unrealizedPnl: 500 }); // (520-515)*100
    expect(c).toMatchObject({ delta: -30, dollarDelta: -15_600, gamma: -2, theta: 5, vega: -40, unrealizedPnl: 100 }); // 0.3*-1*100; (2-3)*-1*100
    expect(r.totals).toMatchObject({ positions: 2, delta: 70, dollarDelta: 36_400, bwd: 70, unrealizedPnl: 600 }); // SPY is the benchmark: BWD = delta
    expect(r.strategies).toHaveLength(1);
    // credit 3.00*100 = 300; at S≥530: (530-515)*100 + 300 = 1800; at S=0: -51500 + 300 = -51200; breakeven 515-3 = 512
    expect(r.strategies[0]).toMatchObject({ kind: 'covered_call', credit: 300, maxProfit: 1800, maxLoss: 51_200, breakevens: [512] });
    expect(c.strategy).toBe(r.strategies[0].id);
  });

  it('short put vertical: credit 400, max profit 400, max loss 1600, breakeven 498', () => {
    const short = pos('SPY   261218P00500000', -2, 4.0);
    const long = pos('SPY   261218P00490000', 2, 2.0);
    const r = buildRiskReport(inputs([short, long], [mkt({ mark: 3.0, underlyingPrice: 520, delta: -0.3 }), mkt({ mark: 1.5, underlyingPrice: 520, delta: -0.2 })], { SPY: 520 }));
    expect(r.strategies[0]).toMatchObject({ kind: 'vertical', credit: 400, maxProfit: 400, maxLoss: 1600, breakevens: [498] });
    // (3-4)*-2*100 = 200; (1.5-2)*2*100 = -100
    expect(r.strategies[0].unrealizedPnl).toBeCloseTo(100, 10);
    expect(r.totals.delta).toBeCloseTo(20, 10); // -0.3*-2*100 + -0.2*2*100 = 60 - 40
  });

  it('iron condor: credit 250, max loss 750, breakevens 477.5 and 562.5', () => {
    const legs = [pos('SPY   261218P00470000', 1, 1), pos('SPY   261218P00480000', -1, 2), pos('SPY   261218C00560000', -1, 2.5), pos('SPY   261218C00570000', 1, 1)];
    const r = buildRiskReport(inputs(legs, legs.map(() => mkt({ mark: 1, underlyingPrice: 520 })), { SPY: 520 }));
    expect(r.strategies).toHaveLength(1);
    expect(r.strategies[0]).toMatchObject({ kind: 'iron_condor', credit: 250, maxProfit: 250, maxLoss: 750, breakevens: [477.5, 562.5] });
  });

  it('beta-weighting: SPX to SPY and SPY to SPX, unknown β listed and never weighted', () => {
    const spx = pos('SPXW  261218P05000000', 1, 40, { underlying: 'SPX' });
    const spy = pos('SPY', 100, 500);
    const aapl = pos('AAPL', 50, 180);
    const markets = [mkt({ mark: 42, underlyingPrice: 5200, delta: 0.1 }), null, null];
    const betas = new Map([['SPX', { beta: 1, source: 'config' }]]);
    const toSpy = buildRiskReport(inputs([spx, spy, aapl], markets, { SPY: 520, SPX: 5200, AAPL: 190 }, { betas }));
    const by = (r: typeof toSpy, u: string) => r.underlyings.find((x) => x.underlying === u)!;
    expect(by(toSpy, 'SPX').bwd).toBeCloseTo(100, 10); // 10 * 1 * 5200 / 520
    expect(by(toSpy, 'SPY').bwd).toBeCloseTo(100, 10);
    expect(by(toSpy, 'AAPL').bwd).toBeNull();
    expect(toSpy.unweighted).toEqual(['AAPL']);
    expect(toSpy.totals.bwd).toBeCloseTo(200, 10);
    expect(toSpy.benchmark).toEqual({ symbol: 'SPY', price: 520 });
    const toSpx = buildRiskReport(inputs([spx, spy, aapl], markets, { SPY: 520, SPX: 5200, AAPL: 190 }, { betas, benchmark: 'SPX' }));
    expect(by(toSpx, 'SPY').bwd).toBeCloseTo(10, 10); // 100 * (1/1) * 520 / 5200
    expect(by(toSpx, 'SPX').bwd).toBeCloseTo(10, 10); // 10 * 1 * 5200 / 5200
    expect(toSpx.betas.map((b) => [b.symbol, b.beta, b.source])).toEqual([['SPX', 1, 'benchmark'], ['SPY', 1, 'reference']]);
  });

  it('futures option with multiplier 50, and the future itself (qty × mult)', () => {
    const fo = pos('./ESH7 EW4G7 270226C5750', 2, 100, { underlying: '/ESH7', multiplier: 50, assetClass: 'option' });
    const fut = pos('/ESH7', -1, 5790, { underlying: '/ESH7', multiplier: 50, assetClass: 'future' });
    const r = buildRiskReport(inputs([fo, fut], [mkt({ mark: 120, underlyingPrice: 5800, delta: 0.4, gamma: 0.001, theta: -1, vega: 8 }), null], { '/ESH7': 5800 }));
    const [o, f] = [r.positions.find((p) => p.instrument === 'future_option')!, r.positions.find((p) => p.instrument === 'future')!];
    expect(o).toMatchObject({ delta: 40, dollarDelta: 232_000, gamma: 0.1, theta: -100, vega: 800, unrealizedPnl: 2000, expiry: '2027-02-26' }); // 0.4*2*50; (120-100)*2*50
    expect(f).toMatchObject({ delta: -50, dollarDelta: -290_000, unrealizedPnl: -500 }); // -1*50; (5800-5790)*-1*50
    expect(r.totals.delta).toBe(-10);
  });

  it('a short that gained: falling mark is a profit; day P&L against the close, labelled', () => {
    const p = pos('SPY   261218C00530000', -3, 5.0);
    const r = buildRiskReport(inputs([p], [mkt({ bid: 3.4, ask: 3.6, underlyingPrice: 515 })], { SPY: 515 }, {
      dayMarks: new Map([[p.contractKey, { mark: 4.0, basis: 'close' as const, day: '2026-11-19' }]]),
    }));
    expect(r.positions[0]).toMatchObject({ mark: 3.5, markSource: 'mid', dayPnlBasis: 'close' });
    expect(r.positions[0].unrealizedPnl).toBeCloseTo(450, 9); // (3.5-5)*-3*100
    expect(r.positions[0].dayPnl).toBeCloseTo(150, 9); // (3.5-4)*-3*100
  });

  it('unknown numbers stay null in the JSON document, and DTE runs to 16:00 New York', () => {
    const p = pos('QQQ   261218P00430000', 1, null);
    const doc = riskJson(buildRiskReport(inputs([p], [null], {})));
    expect(doc.positions[0]).toMatchObject({ delta: null, dollar_delta: null, bwd: null, unrealized_pnl: null, day_pnl: null, mark: null, stale: true });
    // 2026-12-18 16:00 EST = 21:00Z; now 2026-11-20 15:00Z → 28 days + 6 h
    expect(doc.positions[0].dte).toBeCloseTo(28.25, 10);
    expect(doc.totals).toMatchObject({ positions: 1, delta: null, incomplete: 1 });
    expect(doc.as_of).toBe(new Date(NOW).toISOString());
  });
});

describe('fees (D78)', () => {
  it('a position shows its trades\' fees beside realized P&L (already net of them); sums and JSON carry them as added keys', () => {
    const call = pos('SPY   261218C00530000', -1, 3.0);
    const stock = pos('SPY', 100, 515);
    const k = marketKey('tasty', 'A1', 'SPY   261218C00530000');
    const r = buildRiskReport(inputs([stock, call], [null, mkt({ mark: 2.0, underlyingPrice: 520, delta: 0.3 })], { SPY: 520 }, {
      realized: new Map([[k, 120 - 2.5]]), fees: new Map([[k, 2.5]]),
    }));
    const c = r.positions.find((p) => p.contractKey === call.contractKey)!;
    expect(c).toMatchObject({ realizedPnl: 117.5, fees: 2.5 });
    expect(r.positions.find((p) => p.contractKey === 'SPY')!.fees).toBeNull(); // no trade fees known: null, never 0
    expect(r.totals).toMatchObject({ realizedPnl: 117.5, fees: 2.5 });
    const doc = riskJson(r);
    expect(doc.positions.find((p) => p.contract_key === call.contractKey)).toMatchObject({ realized_pnl: 117.5, fees: 2.5 });
    expect(doc.totals).toMatchObject({ realized_pnl: 117.5, fees: 2.5 });
    expect(doc.underlyings[0]).toMatchObject({ underlying: 'SPY', realized_pnl: 117.5, fees: 2.5 });
  });
});

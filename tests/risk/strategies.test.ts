import { describe, expect, it } from 'vitest';
import { buildRiskReport } from '../../src/risk/report.js';
import { inputs, mkt, pos } from './fixtures.js';

const kinds = (r: ReturnType<typeof buildRiskReport>) => r.strategies.map((s) => `${s.account}:${s.kind}:${s.legs.length}`).sort();

describe('strategy recognition on a mixed book', () => {
  it('finds each strategy once, legs never shared, per account', () => {
    const book = [
      // A1: iron condor + butterfly + straddle + calendar + covered call + naked put + a stock alone in QQQ
      pos('SPY   261218P00470000', 1, 1), pos('SPY   261218P00480000', -1, 2), pos('SPY   261218C00560000', -1, 2.5), pos('SPY   261218C00570000', 1, 1),
      pos('SPY   270115C00500000', 1, 10), pos('SPY   270115C00510000', -2, 6), pos('SPY   270115C00520000', 1, 3),
      pos('SPY   270219P00520000', 1, 12), pos('SPY   270219C00520000', 1, 11),
      pos('SPY   270319P00450000', -1, 5), pos('SPY   270416P00450000', 1, 7),
      pos('SPY', 200, 510), pos('SPY   261218C00600000', -2, 1.2),
      pos('AAPL  261218P00180000', -1, 3, { underlying: 'AAPL' }),
      pos('QQQ', 10, 400),
      // A2: a put vertical, a strangle, a diagonal, and two unmatched options (custom)
      pos('SPY   261218P00500000', -2, 4, { account: 'A2' }), pos('SPY   261218P00490000', 2, 2, { account: 'A2' }),
      pos('SPY   270115P00480000', -1, 3, { account: 'A2' }), pos('SPY   270115C00560000', -1, 2, { account: 'A2' }),
      pos('SPY   270219C00530000', 1, 8, { account: 'A2' }), pos('SPY   270319C00540000', -1, 7, { account: 'A2' }),
      pos('SPY   270416C00600000', 3, 1, { account: 'A2' }), pos('SPY   270416P00400000', -1, 2, { account: 'A2' }),
    ];
    const r = buildRiskReport(inputs(book, book.map(() => mkt({ mark: 1, underlyingPrice: 520 })), { SPY: 520 }));
    expect(kinds(r)).toEqual([
      'A1:butterfly:3', 'A1:calendar:2', 'A1:covered_call:2', 'A1:iron_condor:4', 'A1:single:1', 'A1:stock:1', 'A1:straddle:2',
      'A2:custom:2', 'A2:diagonal:2', 'A2:strangle:2', 'A2:vertical:2',
    ]);
    const legs = r.strategies.flatMap((s) => s.legs.map((l) => `${s.account}|${l}`));
    expect(new Set(legs).size).toBe(book.length); // every leg in exactly one strategy
    expect(r.positions.every((p) => p.strategy !== null)).toBe(true);
    // butterfly 500/510/520 for a 1.00 debit: max profit (10 − 1) × 100 = 900, max loss 100, breakevens 501 and 519
    expect(r.strategies.find((s) => s.kind === 'butterfly')).toMatchObject({ credit: -100, maxProfit: 900, maxLoss: 100, breakevens: [501, 519] });
    // long straddle at 520 for 23.00: unbounded profit, max loss 2300, breakevens 497 and 543
    expect(r.strategies.find((s) => s.kind === 'straddle')).toMatchObject({ credit: -2300, maxProfit: null, maxLoss: 2300, breakevens: [497, 543] });
    // long calendar for a 2.00 debit: max loss = the debit; no single-expiry payoff
    expect(r.strategies.find((s) => s.kind === 'calendar')).toMatchObject({ credit: -200, maxLoss: 200, maxProfit: null, breakevens: null });
    // covered call: 200 shares cover two short calls at 600
    expect(r.strategies.find((s) => s.kind === 'covered_call')!.legs).toEqual(['SPY', 'SPY   261218C00600000']);
    // short strangle 480/560 for 5.00: max profit 500, unbounded loss
    expect(r.strategies.find((s) => s.kind === 'strangle')).toMatchObject({ credit: 500, maxProfit: 500, maxLoss: null, breakevens: [475, 565] });
  });

  it('unequal sizes are not a vertical', () => {
    const book = [pos('SPY   261218P00500000', -2, 4), pos('SPY   261218P00490000', 1, 2)];
    const r = buildRiskReport(inputs(book, [null, null], {}));
    expect(kinds(r)).toEqual(['A1:custom:2']);
  });
});

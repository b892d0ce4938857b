/** Futures / FOP identity (interface.md), the Tastytrade and IBKR mappings into it, metrics units. Pure. */
import { describe, expect, it } from 'vitest';
import { canonicalFutureKey, canonicalFutureOptionKey, futureOptionKey, parseFutureKey, parseFutureOptionKey } from '../../src/core/contract.js';
import { futureOptionStreamerSymbol, futureStreamerSymbol, streamerToFutureKey } from '../../src/brokers/tasty/symbols.js';
import { mapPositions, parseFutureInstrument, resolveFutures, futuresToResolve } from '../../src/brokers/tasty/positions.js';
import { desiredSubscriptions } from '../../src/brokers/tasty/subscriptions.js';
import { ibkrFutureKey, ibkrFutureOptionKey } from '../../src/brokers/ibkr/contract.js';
import { mapPosition as mapCpPosition } from '../../src/brokers/ibkr/cpapi/positions.js';
import { mapTwsPosition } from '../../src/brokers/ibkr/tws/positions.js';
import { metricsSymbols, parseMarketMetric } from '../../src/brokers/tasty/metrics.js';

describe('futures and FOP keys', () => {
  it('builds and parses /ESH7 and ./ESH7 EW4G7 270226C5750', () => {
    expect(futureOptionKey({ future: { root: 'ES', month: 3, year: 2027 }, optionRoot: 'EW4', expiry: '2027-02-26', right: 'C', strike: 5750 })).toBe('./ESH7 EW4G7 270226C5750');
    expect(parseFutureOptionKey('./ESH7 EW4G7 270226C5750')).toEqual({ future: { root: 'ES', month: 3, year: 2027 }, optionRoot: 'EW4', expiry: '2027-02-26', right: 'C', strike: 5750 });
    expect(parseFutureKey('/ESZ9', 2026)).toEqual({ root: 'ES', month: 12, year: 2029 });
    expect(parseFutureKey('/ESZ5', 2026)).toEqual({ root: 'ES', month: 12, year: 2025 }); // just expired, not 2035
    expect(canonicalFutureKey('/ZNH27')).toBe('/ZNH7');
    expect(canonicalFutureOptionKey('./ZNH7  OZNG7  270220P111.5')).toBe('./ZNH7 OZNG7 270220P111.5');
    expect(() => canonicalFutureKey('/ES7')).toThrow(/not a futures symbol/);
  });

  it('maps Tastytrade DXLink symbols: /ESH27:XCME and ./EW4G27C5750:XCME', () => {
    expect(futureStreamerSymbol('/ESH7', 'XCME', 2026)).toBe('/ESH27:XCME');
    expect(streamerToFutureKey('/ESH27:XCME')).toBe('/ESH7');
    expect(streamerToFutureKey('/ESM23:XCME')).toBe('/ESM3');
    expect(streamerToFutureKey('SPY')).toBeNull();
    expect(futureOptionStreamerSymbol('./ESH7 EW4G7 270226C5750', 'XCME')).toBe('./EW4G27C5750:XCME');
    expect(futureOptionStreamerSymbol('./ESU4 EW4Q4 240823C5750', 'XCME')).toBe('./EW4Q24C5750:XCME'); // the SDK README example
  });

  it('IBKR FUT and FOP over both transports give the same keys as Tastytrade', () => {
    expect(ibkrFutureKey({ symbol: 'ES', localSymbol: 'ESH7', expiry: '20270319' })).toBe('/ESH7');
    expect(ibkrFutureKey({ symbol: 'ES', expiry: '20270319' })).toBe('/ESH7'); // Client Portal: no local symbol
    expect(ibkrFutureKey({ symbol: 'CL', expiry: '202712' })).toBe('/CLZ7'); // a contract month
    const k = ibkrFutureOptionKey({ symbol: 'ES', expiry: '20270226', right: 'CALL', strike: 5750, tradingClass: 'EW4' });
    expect(k).toEqual({ contractKey: './ESH7 EW4G7 270226C5750', underlying: '/ESH7' });
    expect(ibkrFutureOptionKey({ symbol: 'ES', expiry: '20270226', right: 'C', strike: 5750, localSymbol: 'EW4G7 C5750' }).contractKey).toBe(k.contractKey);
    expect(ibkrFutureOptionKey({ symbol: 'ZN', expiry: '20270220', right: 'P', strike: 111.5, tradingClass: 'OZN', underlyingLocalSymbol: 'ZNH7' }).contractKey).toBe('./ZNH7 OZNG7 270220P111.5');
    expect(() => ibkrFutureOptionKey({ symbol: 'ZN', expiry: '20270220', right: 'P', strike: 111.5 })).toThrow(/underlying future is not known/);
    const cp = mapCpPosition('U1', { conid: 9, position: -2, assetClass: 'FOP', undSym: 'ES', expiry: '20270226', putOrCall: 'C', strike: '5750', multiplier: 50, avgCost: 3062.5, contractDesc: 'ES FEB2027 5750 C (EW4)', undConid: 495512557 });
    expect(cp.ok && cp.position).toMatchObject({ contractKey: k.contractKey, underlying: '/ESH7', multiplier: 50, avgPrice: 61.25, assetClass: 'option' });
    const tws = mapTwsPosition('U1', { conId: 9, symbol: 'ES', secType: 'FOP', lastTradeDateOrContractMonth: '20270226', strike: 5750, right: 'C', multiplier: 50, localSymbol: 'EW4G7 C5750', tradingClass: 'EW4' } as never, -2, 3062.5);
    expect(tws.ok && tws.value.position).toMatchObject({ contractKey: k.contractKey, underlying: '/ESH7', multiplier: 50, avgPrice: 61.25 });
    expect(tws.ok && tws.value.marketData?.exchange).toBe('CME');
    const fut = mapTwsPosition('U1', { conId: 8, symbol: 'ES', secType: 'FUT', lastTradeDateOrContractMonth: '20270319', multiplier: 50, localSymbol: 'ESH7' } as never, 1, 262500);
    expect(fut.ok && fut.value.position).toMatchObject({ contractKey: '/ESH7', underlying: '/ESH7', assetClass: 'future', avgPrice: 5250 });
  });
});

describe('tastytrade futures positions', () => {
  const item = (symbol: string, type: string, underlying: string, multiplier: unknown, qty = 1, dir = 'Long') => ({
    'account-number': 'A1', symbol, 'instrument-type': type, 'underlying-symbol': underlying, quantity: qty, 'quantity-direction': dir, multiplier, 'average-open-price': '10',
  });
  const instruments = new Map([['/ESH7', parseFutureInstrument({ symbol: '/ESH7', 'streamer-symbol': '/ESH27:XCME', 'streamer-exchange-code': 'XCME', 'notional-multiplier': '50.0' })!]]);

  it('never takes the FOP instrument multiplier 1.0: the future notional-multiplier fills it', () => {
    const { positions } = mapPositions('A1', [item('./ESH7 EW4G7 270226C5750', 'Future Option', '/ESH7', '1.0', 2, 'Short'), item('/ESH7', 'Future', '/ES', '50.0')]);
    expect(futuresToResolve(positions)).toEqual(['/ESH7']);
    const r = resolveFutures(positions, instruments);
    expect(r.skipped).toEqual([]);
    expect(r.positions.map((p) => [p.position.contractKey, p.position.multiplier, p.position.quantity, p.position.underlying, p.streamerSymbol])).toEqual([
      ['./ESH7 EW4G7 270226C5750', 50, -2, '/ESH7', './EW4G27C5750:XCME'],
      ['/ESH7', 50, 1, '/ESH7', '/ESH27:XCME'],
    ]);
    const subs = [...desiredSubscriptions(r.positions).keys()].sort();
    expect(subs).toEqual(['Greeks:./EW4G27C5750:XCME', 'Quote:./EW4G27C5750:XCME', 'Quote:/ESH27:XCME']);
  });

  it('a FOP whose multiplier stays unknown is skipped with the reason, not kept at 1', () => {
    const { positions } = mapPositions('A1', [item('./NQH7 QN4G7 270226C21000', 'Future Option', '/NQH7', '1.0')]);
    const r = resolveFutures(positions, instruments);
    expect(r.positions).toEqual([]);
    expect(r.skipped[0]).toMatch(/multiplier unknown/);
  });
});

describe('market metrics units', () => {
  it('keeps 0–1 fractions and divides percent-point fields by 100', () => {
    const m = parseMarketMetric({
      symbol: 'AAPL', 'implied-volatility-index': '0.224', 'implied-volatility-index-rank': '0.0223', 'implied-volatility-percentile': '0.0312',
      'implied-volatility-30-day': '21.87', 'historical-volatility-30-day': '20.02', 'historical-volatility-60-day': '22.4', 'historical-volatility-90-day': 'NaN',
      beta: '1.27', earnings: { 'expected-report-date': '2027-01-28' }, 'updated-at': '2026-12-03T10:00:00Z',
    }, 0)!;
    expect(m).toMatchObject({ symbol: 'AAPL', ivIndex: 0.224, ivRank: 0.0223, ivPercentile: 0.0312, beta: 1.27, earningsDate: '2027-01-28', hv90: null, updatedAt: Date.parse('2026-12-03T10:00:00Z') });
    expect(m.iv30).toBeCloseTo(0.2187, 12);
    expect(m.hv30).toBeCloseTo(0.2002, 12);
    expect(m.hv60).toBeCloseTo(0.224, 12);
    expect(parseMarketMetric({ beta: '1' }, 0)).toBeNull();
    expect(metricsSymbols(['SPY', '/ESH7', '/ESM7', 'SPX', 'SPY'])).toEqual(['/ES', 'SPX', 'SPY']);
  });
});

describe('greeks view', () => {
  it('shortens a futures option key to fit the contract column', async () => {
    const { shortContract } = await import('../../src/cli/greeksView.js');
    expect(shortContract('./ESH7 EW3F7 270115P5100')).toBe('ESH7 EW3F7 P5100');
    expect(shortContract('SPY   261218C00500000')).toBe('SPY 261218C500');
  });
});

describe('processor: metrics events', () => {
  it('writes each poll at once and keeps the newest per symbol (an older poll does not replace it)', async () => {
    const { Processor } = await import('../../src/core/processor.js');
    const pino = (await import('pino')).default;
    const writes: [string, string[]][] = [];
    const storage = {
      writeSnapshots: async () => ({ inserted: 0, duplicates: 0 }), replacePositions: async () => undefined, writeTrades: async () => ({ inserted: 0, duplicates: 0 }),
      writeMarketMetrics: async (source: string, rows: { symbol: string }[]) => (writes.push([source, rows.map((r) => r.symbol)]), rows.length),
    };
    const p = new Processor({ storage, log: pino({ level: 'silent' }) });
    const m = (symbol: string, beta: number, updatedAt: number) => ({ symbol, ivIndex: 0.2, ivRank: 0.1, ivPercentile: 0.3, iv30: 0.2, hv30: 0.18, hv60: null, hv90: null, beta, earningsDate: null, updatedAt });
    p.ingest([{ kind: 'metrics', broker: 'tasty', at: 2, metrics: [m('SPY', 1, 2000), m('/ES', 1.01, 2000)] }]);
    p.ingest([{ kind: 'metrics', broker: 'tasty', at: 3, metrics: [m('SPY', 0.5, 1000)] }]);
    await new Promise((r) => setTimeout(r, 0));
    expect(writes).toEqual([['tasty', ['SPY', '/ES']], ['tasty', ['SPY']]]);
    expect(p.marketMetrics().find((x) => x.symbol === 'SPY')?.beta).toBe(1);
    p.close();
  });
});

import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { byTypeItemToRow, byTypeParams } from '../../src/quotes/tastyRest.js';
import { snapshotItemToRow } from '../../src/quotes/ibkrRest.js';
import { parseSymbol, parseWatchlist } from '../../src/quotes/symbols.js';

describe('quote symbols', () => {
  it('parses every accepted form to one canonical key and kind', () => {
    expect(parseSymbol(' spy ')).toEqual({ symbol: 'SPY', kind: 'equity', underlying: 'SPY' });
    expect(parseSymbol('XSP')).toMatchObject({ kind: 'index' });
    expect(parseSymbol('BRK/B')).toMatchObject({ symbol: 'BRK/B', kind: 'equity' });
    expect(parseSymbol('/esh7')).toEqual({ symbol: '/ESH7', kind: 'future', underlying: '/ESH7' });
    expect(parseSymbol('./ESH7 EW4G7 270226C5750')).toEqual({ symbol: './ESH7 EW4G7 270226C5750', kind: 'future_option', underlying: '/ESH7' });
    expect(parseSymbol('SPY251219C00500000')).toEqual({ symbol: 'SPY   251219C00500000', kind: 'option', underlying: 'SPY' });
    expect(parseSymbol('SPXW  251219P05000000')).toEqual({ symbol: 'SPXW  251219P05000000', kind: 'option', underlying: 'SPX' });
    for (const bad of ['', 'S P Y', '/ES', 'SPY 2512', '$SPX']) expect(() => parseSymbol(bad), bad).toThrow(ConfigError);
  });

  it('WATCHLIST: comma list, spaces inside OCC keys kept, duplicates once, a bad entry named', () => {
    expect(parseWatchlist('SPY, XSP,SPY   251219C00500000,spy,,SPY251219C00500000').map((w) => w.symbol)).toEqual(['SPY', 'XSP', 'SPY   251219C00500000']);
    expect(parseWatchlist(undefined)).toEqual([]);
    expect(() => parseWatchlist('SPY,S&P')).toThrow(/WATCHLIST: "S&P" is not a symbol/);
  });

  it('Tastytrade by-type: symbols grouped per type; string decimals parsed; items keyed by the symbol asked', () => {
    const asked = ['SPY', 'XSP', 'SPX', 'SPY251219C00500000', '/ESH7'].map((s) => parseSymbol(s));
    expect(byTypeParams(asked)).toEqual({ equity: 'SPY', index: 'XSP,SPX', 'equity-option': 'SPY   251219C00500000', future: '/ESH7' });
    const map = new Map(asked.map((s) => [s.symbol, s]));
    const row = byTypeItemToRow({ symbol: 'SPY   251219C00500000', bid: '1.25', ask: '1.35', mid: '1.3', mark: '1.31', last: '1.3', 'updated-at': '2026-12-03T14:00:00.000Z', delta: '0.51', volatility: '0.22' }, map, 5);
    expect(row).toMatchObject({ symbol: 'SPY   251219C00500000', bid: 1.25, ask: 1.35, mid: 1.3, mark: 1.31, source: 'rest', eventTs: Date.parse('2026-12-03T14:00:00.000Z'), receivedAt: 5, delta: 0.51, iv: 0.22 });
    expect(byTypeItemToRow({ symbol: 'QQQ', bid: '1' }, map, 5)).toBeNull(); // not asked
    expect(byTypeItemToRow({ symbol: 'XSP', bid: '519.5', ask: '520.5' }, map, 5)).toMatchObject({ mid: 520, mark: 520, eventTs: 5 });
  });

  it('IBKR snapshot: a pre-flight item has no price; prices strip C/H prefixes and commas', () => {
    expect(snapshotItemToRow({ conid: 1, conidEx: '1' }, 'XSP', 9)).toBeNull();
    expect(snapshotItemToRow({ conid: 1, 31: 'C1,520.25', 84: '1,520.00', 86: '1,520.50', _updated: 7 }, 'XSP', 9))
      .toMatchObject({ symbol: 'XSP', broker: 'ibkr', last: 1520.25, bid: 1520, ask: 1520.5, mid: 1520.25, eventTs: 7, receivedAt: 9 });
  });
});

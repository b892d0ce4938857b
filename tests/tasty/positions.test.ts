import { describe, expect, it } from 'vitest';
import { accountNumbersOf, mapPosition, mapPositions } from '../../src/brokers/tasty/positions.js';
import { desiredSubscriptions, diffSubscriptions, subKey } from '../../src/brokers/tasty/subscriptions.js';

const opt = (symbol: string, qty: number | string, dir: string, underlying = 'SPY') => ({
  'account-number': 'A1', symbol, 'instrument-type': 'Equity Option', 'underlying-symbol': underlying,
  quantity: qty, 'quantity-direction': dir, multiplier: 100, 'average-open-price': '2.5',
});

describe('tasty positions', () => {
  it('signs quantities by quantity-direction and keys options by OCC', () => {
    const { positions, skipped } = mapPositions('A1', [
      opt('SPY   251219C00500000', 3, 'Long'),
      opt('SPY   251219P00502500', '2', 'Short'),
      opt('SPXW  251219P05000000', 1, 'Long', 'SPX'),
    ]);
    expect(skipped).toEqual([]);
    expect(positions.map((p) => [p.position.contractKey, p.position.quantity, p.streamerSymbol])).toEqual([
      ['SPY   251219C00500000', 3, '.SPY251219C500'],
      ['SPY   251219P00502500', -2, '.SPY251219P502.5'],
      ['SPXW  251219P05000000', 1, '.SPXW251219P5000'],
    ]);
    expect(positions[2].position.underlying).toBe('SPX');
    expect(positions[0].position.avgPrice).toBe(2.5);
  });

  it('keeps the sign of a signed quantity when no direction is given', () => {
    const { positions } = mapPositions('A1', [{ ...opt('SPY   251219C00500000', '-4', ''), 'quantity-direction': undefined }]);
    expect(positions[0].position.quantity).toBe(-4);
  });

  it('drops zero quantities and reports unusable items', () => {
    const { positions, skipped } = mapPositions('A1', [opt('SPY   251219C00500000', 0, 'Zero'), opt('garbage', 1, 'Long'), { symbol: 'X' }]);
    expect(positions).toEqual([]);
    expect(skipped).toHaveLength(2);
  });

  it('reads account numbers from the accounts response', () => {
    expect(accountNumbersOf([{ account: { 'account-number': '5WT1' } }, { account: { 'account-number': '5WT2' } }])).toEqual(['5WT1', '5WT2']);
  });

  it('subscribes Greeks only for options, Quote for options and underlyings', () => {
    const { positions } = mapPositions('A1', [
      opt('SPY   251219C00500000', 3, 'Long'),
      { symbol: 'AAPL', 'instrument-type': 'Equity', quantity: 100, 'quantity-direction': 'Long', multiplier: 1 },
    ]);
    const subs = [...desiredSubscriptions(positions).keys()].sort();
    expect(subs).toEqual(['Greeks:.SPY251219C500', 'Quote:.SPY251219C500', 'Quote:AAPL', 'Quote:SPY']);
  });

  it('diffs subscription sets', () => {
    const a = new Map([['Quote:SPY', { type: 'Quote' as const, symbol: 'SPY' }]]);
    const b = new Map([['Quote:QQQ', { type: 'Quote' as const, symbol: 'QQQ' }]]);
    const d = diffSubscriptions(a, b);
    expect(d.add.map(subKey)).toEqual(['Quote:QQQ']);
    expect(d.remove.map(subKey)).toEqual(['Quote:SPY']);
  });
});

describe('positions without an instrument type', () => {
  it('treats an OCC-shaped symbol as an option and leaves other symbols alone', () => {
    const opt = mapPosition('A1', { symbol: 'SPY   251219C00500000', quantity: 2, 'quantity-direction': 'Short', multiplier: 100 });
    expect(opt.ok && opt.value.position).toMatchObject({ assetClass: 'option', contractKey: 'SPY   251219C00500000', quantity: -2, underlying: 'SPY' });
    const other = mapPosition('A1', { symbol: 'BTC/USD', quantity: 1, 'quantity-direction': 'Long' });
    expect(other.ok && other.value.position.assetClass).toBe('other');
  });
});

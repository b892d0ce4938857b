import { describe, expect, it } from 'vitest';
import { ibkrContractKey } from '../../src/brokers/ibkr/contract.js';

describe('IBKR contract → OCC key', () => {
  it('uses the trading class as the OCC root when IBKR gives one', () => {
    expect(ibkrContractKey({ symbol: 'SPX', expiry: '20251219', right: 'P', strike: 5000, tradingClass: 'SPXW' })).toEqual({ contractKey: 'SPXW  251219P05000000', underlying: 'SPX' });
  });

  it('without a trading class, an SPX expiry that is not a third Friday can only be a weekly (SPXW)', () => {
    expect(ibkrContractKey({ symbol: 'SPX', expiry: '20251212', right: 'P', strike: 5000 }).contractKey).toBe('SPXW  251212P05000000');
    expect(ibkrContractKey({ symbol: 'NDX', expiry: '20251210', right: 'C', strike: 21000 }).contractKey).toBe('NDXP  251210C21000000');
  });

  it('without a trading class, a third-Friday SPX expiry keeps the SPX root (the AM monthly)', () => {
    expect(ibkrContractKey({ symbol: 'SPX', expiry: '20251219', right: 'C', strike: 6000 }).contractKey).toBe('SPX   251219C06000000');
  });

  it('leaves equity roots alone whatever the expiry', () => {
    expect(ibkrContractKey({ symbol: 'SPY', expiry: '20251212', right: 'CALL', strike: 502.5 }).contractKey).toBe('SPY   251212C00502500');
  });
});

import { describe, expect, it } from 'vitest';
import { attribute, realizedFifo } from '../../src/risk/pnl.js';
import { marketKey } from '../../src/risk/types.js';

const t = (side: 'buy' | 'sell', quantity: number, price: number, at: number, contractKey = 'SPY   261218C00500000') =>
  ({ broker: 'tasty', account: 'A1', contractKey, side, quantity, price, executedAt: at });

describe('realized P&L, FIFO', () => {
  it('closes the oldest lots first', () => {
    // buy 2 @ 1.00, buy 1 @ 2.00, sell 2 @ 3.00 → (3-1)·2·100 = 400; one lot of 1 @ 2.00 left
    const r = realizedFifo([t('buy', 2, 1, 1), t('buy', 1, 2, 2), t('sell', 2, 3, 3)]);
    const k = marketKey('tasty', 'A1', 'SPY   261218C00500000');
    expect(r.realized.get(k)).toBeCloseTo(400, 9);
    expect(r.open.get(k)).toEqual({ quantity: 1, avgPrice: 2 });
  });

  it('a short that gained: sell 3 @ 5.00, buy 2 @ 3.50 → +300; a flip opens the other side', () => {
    const r = realizedFifo([t('sell', 3, 5, 1), t('buy', 2, 3.5, 2), t('buy', 3, 4, 3)]);
    const k = marketKey('tasty', 'A1', 'SPY   261218C00500000');
    // +300, then the last short closes at 4.00: +100 → 400; 2 long @ 4.00 open
    expect(r.realized.get(k)).toBeCloseTo(400, 9);
    expect(r.open.get(k)).toEqual({ quantity: 2, avgPrice: 4 });
  });

  it('stock settles with multiplier 1, trades out of order are sorted by time', () => {
    const r = realizedFifo([t('sell', 100, 530, 2, 'SPY'), t('buy', 100, 515, 1, 'SPY')]);
    expect(r.realized.get(marketKey('tasty', 'A1', 'SPY'))).toBeCloseTo(1500, 9);
  });

  it('net of fees: every trade\'s fees (opening and closing) come off realized and are reported on their own', () => {
    // buy 2 @ 1.00 (fees 2.60), sell 2 @ 3.00 (fees 2.74): gross (3-1)·2·100 = 400; fees 5.34; net 394.66
    const r = realizedFifo([{ ...t('buy', 2, 1, 1), fees: 2.6 }, { ...t('sell', 2, 3, 2), fees: 2.74 }, t('buy', 1, 2, 3, 'SPY   261218P00500000')]);
    const k = marketKey('tasty', 'A1', 'SPY   261218C00500000');
    expect(r.realized.get(k)).toBeCloseTo(394.66, 9);
    expect(r.fees.get(k)).toBeCloseTo(5.34, 9);
    // a key whose trades carried no fee: none reported (not 0), realized as before (nothing closed yet)
    const put = marketKey('tasty', 'A1', 'SPY   261218P00500000');
    expect(r.fees.has(put)).toBe(false);
    expect(r.realized.get(put)).toBe(0);
    // fees of an open lot are already a cost: buy 1 @ 2.00 with 1.30 fees → realized -1.30
    const open = realizedFifo([{ ...t('buy', 1, 2, 1), fees: 1.3 }]);
    expect(open.realized.get(k)).toBeCloseTo(-1.3, 9);
  });
});

describe('Greek attribution', () => {
  it('Δ·dS + ½Γ·dS² + Θ·dt + V·dσ with the residual shown', () => {
    // delta 100, gamma 4, theta -20/day, vega 50/pt; dS = +2, dσ = -1 pt, 0.5 day; actual 150
    const a = attribute({ delta: 100, gamma: 4, theta: -20, vega: 50, dS: 2, dVolPts: -1, dtDays: 0.5, actual: 150 });
    expect(a).toEqual({ delta: 200, gamma: 8, theta: -10, vega: -50, explained: 148, actual: 150, residual: 2 });
  });
});

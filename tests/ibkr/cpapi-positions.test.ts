import { describe, expect, it } from 'vitest';
import { mapPosition, occFromDescription } from '../../src/brokers/ibkr/cpapi/positions.js';

const spxw = {
  acctId: 'U1', conid: 700000003, contractDesc: 'SPX    DEC2026 5000 P [SPXW  261218P05000000 100]', position: -2,
  assetClass: 'OPT', putOrCall: 'P', strike: '5000', expiry: '20261218', multiplier: 100, undSym: 'SPX', undConid: 416904, avgCost: 1250.5,
};

describe('cpapi positions mapping', () => {
  it('takes the OCC key from the bracket in contractDesc, so SPX weeklies are SPXW', () => {
    const m = mapPosition('U1', spxw);
    expect(m.ok).toBe(true);
    if (!m.ok) return;
    expect(m.position).toEqual({
      broker: 'ibkr', account: 'U1', contractKey: 'SPXW  261218P05000000', underlying: 'SPX', quantity: -2, multiplier: 100, avgPrice: 12.505, assetClass: 'option',
    });
    expect(m.option).toEqual({ conid: 700000003, contractKey: 'SPXW  261218P05000000', underlying: 'SPX', undConid: 416904 });
  });
  it('falls back to the fields (trading class, else symbol) without a bracket', () => {
    const m = mapPosition('U1', { ...spxw, contractDesc: 'SPY    JAN2026 502.5 P', undSym: 'SPY', strike: 502.5, expiry: '20260116', tradingClass: undefined });
    expect(m.ok && m.position.contractKey).toBe('SPY   260116P00502500');
    const w = mapPosition('U1', { ...spxw, contractDesc: 'SPX DEC2026', tradingClass: 'SPXW' });
    expect(w.ok && w.position.contractKey).toBe('SPXW  261218P05000000');
  });
  it('reads numbers given as strings and defaults the option multiplier to 100', () => {
    const m = mapPosition('U1', { ...spxw, position: '3', multiplier: null, avgCost: '500' });
    expect(m.ok && [m.position.quantity, m.position.multiplier, m.position.avgPrice]).toEqual([3, 100, 5]);
  });
  it('skips closed rows and reports rows it cannot use', () => {
    expect(mapPosition('U1', { ...spxw, position: 0 })).toEqual({ ok: false, reason: 'closed' });
    expect(mapPosition('U1', { ...spxw, conid: undefined }).ok).toBe(false);
    expect(mapPosition('U1', { conid: 5, position: 1, assetClass: 'OPT', contractDesc: 'weird' }).ok).toBe(false);
    expect(mapPosition('U1', 'nope').ok).toBe(false);
  });
  it('maps stock positions as equity keyed by ticker, without a subscription', () => {
    const m = mapPosition('U1', { conid: 756733, position: 100, assetClass: 'STK', ticker: 'SPY', contractDesc: 'SPY', avgCost: 510.2 });
    expect(m.ok && m.position).toMatchObject({ contractKey: 'SPY', assetClass: 'equity', multiplier: 1, avgPrice: 510.2 });
    expect(m.ok && m.option).toBeNull();
  });
  it('reads the bracket with collapsed spaces and its multiplier', () => {
    expect(occFromDescription('X [SPXW 261218P05000000 50]')).toEqual({ contractKey: 'SPXW  261218P05000000', multiplier: 50 });
    expect(occFromDescription('SPX DEC2026 5000 P')).toBeNull();
  });
});

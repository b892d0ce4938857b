import { describe, expect, it } from 'vitest';
import { canonicalOcc, contractKey, ContractKeyError, isOccKey, occKey, parseOcc, underlyingOfRoot } from '../../src/core/contract.js';

describe('OCC contract key', () => {
  it('contractKey() normalises every OCC spelling to the padded key and keeps other keys as given', () => {
    const padded = occKey({ root: 'SPY', expiry: '2025-12-19', right: 'C', strike: 500 });
    expect(contractKey('SPY251219C00500000')).toBe(padded);
    expect(contractKey(' SPY   251219C00500000 ')).toBe(padded);
    expect(contractKey(padded)).toBe(padded);
    expect(contractKey('SPY')).toBe('SPY');
    expect(contractKey(' AAPL ')).toBe('AAPL');
  });

  it('builds the 21-character key with the root padded to 6', () => {
    const key = occKey({ root: 'SPY', expiry: '2025-12-19', right: 'C', strike: 500 });
    expect(key).toBe('SPY   251219C00500000');
    expect(key).toHaveLength(21);
  });

  it('handles SPXW, fractional strikes and 1- to 6-letter roots', () => {
    expect(occKey({ root: 'SPXW', expiry: '20251219', right: 'P', strike: 5000 })).toBe('SPXW  251219P05000000');
    expect(occKey({ root: 'AAPL', expiry: '250117', right: 'C', strike: 502.5 })).toBe('AAPL  250117C00502500');
    expect(occKey({ root: 'F', expiry: '2026-01-16', right: 'P', strike: 12.125 })).toBe('F     260116P00012125');
    expect(occKey({ root: 'GOOGL1', expiry: '2026-01-16', right: 'C', strike: 150 })).toBe('GOOGL1260116C00150000');
  });

  it('round-trips build and parse', () => {
    for (const c of [
      { root: 'SPY', expiry: '2025-12-19', right: 'C' as const, strike: 500 },
      { root: 'SPXW', expiry: '2024-01-19', right: 'P' as const, strike: 4975 },
      { root: 'QQQ', expiry: '2026-03-20', right: 'P' as const, strike: 432.5 },
      { root: 'X', expiry: '2027-06-18', right: 'C' as const, strike: 0.5 },
    ]) {
      expect(parseOcc(occKey(c))).toEqual(c);
    }
  });

  it('accepts the unpadded spelling and canonicalises it', () => {
    expect(canonicalOcc('SPY251219C00500000')).toBe('SPY   251219C00500000');
    expect(isOccKey('SPY   251219C00500000')).toBe(true);
    expect(isOccKey('SPY251219C00500000')).toBe(false);
  });

  it('rejects malformed input with a clear error', () => {
    expect(() => occKey({ root: 'TOOLONGX', expiry: '2025-12-19', right: 'C', strike: 1 })).toThrow(/root/);
    expect(() => occKey({ root: 'SPY', expiry: '2025-02-30', right: 'C', strike: 1 })).toThrow(/no such date/);
    expect(() => occKey({ root: 'SPY', expiry: '2025-12-19', right: 'X' as 'C', strike: 1 })).toThrow(/right/);
    expect(() => occKey({ root: 'SPY', expiry: '2025-12-19', right: 'C', strike: 1.2345 })).toThrow(/decimals/);
    expect(() => occKey({ root: 'SPY', expiry: '2025-12-19', right: 'C', strike: -5 })).toThrow(/> 0/);
    expect(() => parseOcc('SPY 2512 C 500')).toThrow(ContractKeyError);
  });

  it('maps weekly index roots to their underlying', () => {
    expect(underlyingOfRoot('SPXW')).toBe('SPX');
    expect(underlyingOfRoot('SPY')).toBe('SPY');
  });
});

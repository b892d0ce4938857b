import { describe, expect, it } from 'vitest';
import { encodeSnapshotsBinary, numericDigits } from '../../src/db/snapshotCopy.js';

describe('binary COPY encoding of snapshot rows', () => {
  it('writes numerics as the base-10000 digits of the decimal the text path sends', () => {
    expect(numericDigits(1.5)).toEqual({ weight: 0, digits: [1, 5000], dscale: 1 });
    expect(numericDigits(123456.25)).toEqual({ weight: 1, digits: [12, 3456, 2500], dscale: 2 });
    expect(numericDigits(20000)).toEqual({ weight: 1, digits: [2], dscale: 0 });
    expect(numericDigits(0.5)).toEqual({ weight: -1, digits: [5000], dscale: 1 });
    expect(numericDigits(1.5e-7)).toEqual({ weight: -2, digits: [15], dscale: 8 });
  });

  it('frames one COPY: signature, one 19-field tuple per row, trailer; null for non-finite numbers', () => {
    const row = {
      broker: 'B', account: 'A', contractKey: 'K', underlying: 'U', eventTs: 946_684_800_001, seq: 3, receivedAt: 946_684_800_002,
      quantity: -2, multiplier: 100, bid: Number.NaN, ask: 1, mark: null, underlyingPrice: 600, iv: 0.2, delta: 0.5, gamma: 0.01, theta: -0.1, vega: 0.3, rho: 0.05,
    };
    const b = encodeSnapshotsBinary([row, row]);
    expect(b.subarray(0, 11).toString('latin1')).toBe('PGCOPY\n\xff\r\n\0');
    expect(b.readInt16BE(19)).toBe(19);
    expect(b.readInt16BE(b.length - 2)).toBe(-1);
    // event_ts: 1 ms after PostgreSQL's epoch = 1000 µs
    let at = 19 + 2 + 4 * (4 + 1);
    expect(b.readInt32BE(at)).toBe(8);
    expect(Number(b.readBigInt64BE(at + 4))).toBe(1000);
    at += 12 + 12 + 12; // event_ts, seq, received_at
    expect(b.readInt32BE(at)).toBe(10); // quantity -2: one digit
    expect(b.readInt16BE(at + 8)).toBe(0x4000);
    at += 14 + 14; // quantity, multiplier
    expect(b.readInt32BE(at)).toBe(-1); // bid NaN -> NULL
    expect(b.readInt32BE(at + 4)).toBe(8);
    expect(b.readDoubleBE(at + 8)).toBe(1);
    expect(b.readInt32BE(at + 16)).toBe(-1); // mark null
  });
});

import { describe, expect, it } from 'vitest';
import { bearerMatches, checkBind, isLoopback } from '../../src/api/auth.js';
import { HttpError } from '../../src/api/errors.js';
import { fromQuery } from '../../src/api/query.js';
import { parseTradeBody } from '../../src/api/tradeBody.js';
import { ConfigError } from '../../src/core/errors.js';

const TOKEN = 'a'.repeat(24);

describe('bind policy', () => {
  it('treats 127.x, ::1 and localhost as loopback, everything else not', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect(isLoopback(h)).toBe(true);
    for (const h of ['0.0.0.0', '::', '192.168.1.5', 'example.com', '127.0.0.1.example.com']) expect(isLoopback(h)).toBe(false);
  });

  it('refuses a non-loopback bind without API_TOKEN, with one line naming the fix', () => {
    expect(() => checkBind('0.0.0.0', undefined)).toThrow(ConfigError);
    expect(() => checkBind('0.0.0.0', undefined)).toThrow(/set API_TOKEN/);
    expect(() => checkBind('0.0.0.0', TOKEN)).not.toThrow();
    expect(() => checkBind('127.0.0.1', undefined)).not.toThrow();
  });

  it('refuses a short token anywhere', () => {
    expect(() => checkBind('127.0.0.1', 'short')).toThrow(/API_TOKEN is too short/);
  });

  it('matches only the exact bearer token', () => {
    expect(bearerMatches(`Bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`bearer ${TOKEN}`, TOKEN)).toBe(true);
    expect(bearerMatches(`Bearer ${TOKEN}x`, TOKEN)).toBe(false);
    expect(bearerMatches(TOKEN, TOKEN)).toBe(false);
    expect(bearerMatches(undefined, TOKEN)).toBe(false);
  });
});

describe('query strings', () => {
  it('rejects unknown and repeated parameters', () => {
    expect(() => fromQuery({ contractKey: 'x' }, ['contract_key'])).toThrow(/unknown parameter contractKey: use contract_key/);
    expect(() => fromQuery({ broker: ['a', 'b'] }, ['broker'])).toThrow(/given more than once/);
    expect(fromQuery({ broker: 'a' }, ['broker'])).toEqual({ broker: 'a' });
  });
});

describe('POST /v1/trades body', () => {
  const good = {
    broker: 'tasty', account: '5WT0001', trade_id: 'T-1', contract_key: 'SPY251219C00500000',
    side: 'buy', quantity: 2, price: 3.25, executed_at: '2025-01-02T15:00:00Z',
  };

  it('accepts a valid trade, canonicalises the OCC key and defaults source to manual', () => {
    expect(parseTradeBody(good)).toEqual({
      broker: 'tasty', account: '5WT0001', tradeId: 'T-1', contractKey: 'SPY   251219C00500000', side: 'buy',
      quantity: 2, price: 3.25, executedAt: Date.UTC(2025, 0, 2, 15), source: 'manual', fees: null,
    });
    expect(parseTradeBody({ ...good, executed_at: 1_735_830_000_000, source: 'paper' })).toMatchObject({ executedAt: 1_735_830_000_000, source: 'paper' });
    expect(parseTradeBody({ ...good, fee: 1.3 }).fees).toBe(1.3);
    expect(parseTradeBody({ ...good, fee: -0.2 }).fees).toBe(-0.2); // a rebate
  });

  const bad: [string, unknown, RegExp][] = [
    ['not an object', [good], /must be a JSON object/],
    ['an unknown field', { ...good, qty: 1 }, /unknown field qty/],
    ['no broker', { ...good, broker: undefined }, /broker must be/],
    ['an empty trade id', { ...good, trade_id: '' }, /trade_id must be/],
    ['a fee given as text', { ...good, fee: '1.30' }, /fee must be a number from -1e9 to 1e9/],
    ['a fee out of range', { ...good, fee: 1e10 }, /fee must be a number from -1e9 to 1e9/],
    ['a contract that is not OCC', { ...good, contract_key: 'SPY' }, /contract_key: invalid OCC symbol/],
    ['a bad side', { ...good, side: 'short' }, /side must be "buy" or "sell"/],
    ['a zero quantity', { ...good, quantity: 0 }, /quantity must be a number > 0/],
    ['a quantity given as text', { ...good, quantity: '2' }, /quantity must be a number > 0/],
    ['a negative price', { ...good, price: -1 }, /price must be a number >= 0/],
    ['a bad time', { ...good, executed_at: 'now' }, /executed_at=now is not a time/],
    ['a bad source', { ...good, source: 'a b' }, /source must be a short word/],
  ];
  it.each(bad)('rejects %s with a 400 naming the field', (_what, body, message) => {
    let err: unknown;
    try {
      parseTradeBody(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).statusCode).toBe(400);
    expect((err as Error).message).toMatch(message);
  });
});

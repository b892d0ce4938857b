import { describe, expect, it } from 'vitest';
import type { GreekSnapshot } from '../../src/core/types.js';
import { StorageError } from '../../src/db/errors.js';
import { positionParams, validatePositions } from '../../src/db/positions.js';
import { MAX_LIMIT, buildLatestQuery, clampLimit, quoteElement, snapshotParams, validateSnapshots } from '../../src/db/snapshots.js';
import { drizzleOver } from '../../src/db/drizzle.js';
import { alertsQuery, snapshotsQuery } from '../../src/db/queries.js';
import { tradeParams, validateTrades } from '../../src/db/trades.js';

const row = (over: Partial<GreekSnapshot> = {}): GreekSnapshot => ({
  broker: 'sim', account: 'A', contractKey: 'SPY   251219C00500000', underlying: 'SPY', eventTs: 1000, seq: 0, receivedAt: 1001,
  quantity: 1, multiplier: 100, bid: 1, ask: 2, mark: 1.5, underlyingPrice: 500, iv: 0.2, delta: 0.5, gamma: 0.1, theta: -0.1, vega: 0.2, rho: 0.01,
  ...over,
});

describe('snapshot rows to column arrays', () => {
  it('makes one array literal per column, in insert order', () => {
    const params = snapshotParams([row(), row({ account: 'B', seq: 3 })]);
    expect(params).toHaveLength(19);
    expect(params.slice(0, 6)).toEqual(['{sim,sim}', '{A,B}', '{"SPY   251219C00500000","SPY   251219C00500000"}', '{SPY,SPY}', '{1000,1000}', '{0,3}']);
  });

  it('turns NaN and ±Infinity into NULL in the market-data columns', () => {
    const params = snapshotParams([row({ bid: NaN, ask: Infinity, iv: -Infinity, delta: null, rho: NaN })]);
    const [bid, ask, mark, up, iv, delta, , , , rho] = params.slice(9);
    expect([bid, ask, mark, up, iv, delta, rho]).toEqual(['{NULL}', '{NULL}', '{1.5}', '{500}', '{NULL}', '{NULL}', '{NULL}']);
  });

  it('quotes text elements that an array literal would misread', () => {
    expect(quoteElement('SPY')).toBe('SPY');
    expect(quoteElement('null')).toBe('"null"');
    expect(quoteElement('')).toBe('""');
    expect(quoteElement('a,b')).toBe('"a,b"');
    expect(quoteElement('say "hi" \\ {x}')).toBe('"say \\"hi\\" \\\\ {x}"');
  });

  it('rejects rows without key fields or finite times and sizes, naming the field', () => {
    expect(() => validateSnapshots([row(), row({ eventTs: NaN })])).toThrow(/row 1 has an invalid eventTs/);
    expect(() => validateSnapshots([row({ multiplier: Infinity })])).toThrow(/multiplier/);
    expect(() => validateSnapshots([row({ account: '' })])).toThrow(/account/);
    const err = (() => { try { validateSnapshots([row({ quantity: NaN })]); } catch (e) { return e; } })();
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).retryable).toBe(false);
  });
});

describe('snapshot queries', () => {
  it('puts every filter value in a parameter, never in the SQL text', () => {
    const unused = async () => {
      throw new Error('not run');
    };
    const db = drizzleOver({ query: unused, queryArrays: unused });
    const q = snapshotsQuery(db, { broker: "x'; DROP TABLE trades; --", account: 'A', from: 1, to: 2, limit: 5 }).toSQL();
    expect(q.sql).not.toContain('DROP TABLE');
    expect(q.params).toEqual(["x'; DROP TABLE trades; --", 'A', '1970-01-01T00:00:00.001Z', '1970-01-01T00:00:00.002Z', 5]);
    expect(q.sql).toMatch(/order by "greek_snapshots"."event_ts" desc, "greek_snapshots"."seq" desc/);
  });

  it('alerts listing is a drizzle query: open, since (opened or closed after), newest first, limit clamped', () => {
    const unused = async () => {
      throw new Error('not run');
    };
    const db = drizzleOver({ query: unused, queryArrays: unused });
    const q = alertsQuery(db, { open: true, since: 1000, limit: 1e9 }).toSQL();
    expect(q.sql).toMatch(/from "alerts" where \("alerts"."closed_at" is null and \("alerts"."opened_at" >= \$1 or "alerts"."closed_at" >= \$2\)\) order by "alerts"."opened_at" desc, "alerts"."id" desc limit \$3/);
    expect(q.params).toEqual(['1970-01-01T00:00:01.000Z', '1970-01-01T00:00:01.000Z', 10_000]);
    expect(alertsQuery(db, {}).toSQL().params).toEqual([1000]);
  });

  it('clamps the limit to 1..10000 with 100 by default', () => {
    expect(clampLimit(undefined)).toBe(100);
    expect(clampLimit(0)).toBe(1);
    expect(clampLimit(1e9)).toBe(MAX_LIMIT);
    expect(clampLimit(NaN)).toBe(100);
  });

  it('latest query orders DISTINCT ON by event time then sequence', () => {
    const q = buildLatestQuery({ underlying: 'SPY' });
    expect(q.text).toMatch(/DISTINCT ON \(broker, account, contract_key\)/);
    expect(q.text).toMatch(/event_ts DESC, seq DESC/);
    expect(q.params).toEqual(['SPY']);
  });
});

describe('positions and trades mapping', () => {
  const pos = { broker: 'sim', account: 'A', contractKey: 'K1', underlying: 'SPY', quantity: 1, multiplier: 100, avgPrice: NaN, assetClass: 'option' as const };

  it('keeps the last entry of a contract listed twice, and NaN avg price becomes null', () => {
    const p = positionParams('sim', 'A', [pos, { ...pos, quantity: 4 }], 10);
    expect(p[2]).toEqual(['K1']);
    expect(p[4]).toEqual([4]);
    expect(p[6]).toEqual([null]);
  });

  it('rejects a position with a non-finite quantity', () => {
    expect(() => validatePositions([{ ...pos, quantity: NaN }], 1)).toThrow(/K1.*quantity/);
  });

  it('sends a trade id repeated in one batch once', () => {
    const t = { broker: 'sim', account: 'A', tradeId: 'T', contractKey: 'K', side: 'buy' as const, quantity: 1, price: 1, executedAt: 1, source: 'paper' };
    const { params, repeats } = tradeParams([t, { ...t, price: 2 }, { ...t, tradeId: 'U' }]);
    expect(params[2]).toEqual(['T', 'U']);
    expect(params[6]).toEqual([1, 1]);
    expect(repeats).toBe(1);
  });

  it('rejects a trade with an unknown side', () => {
    const t = { broker: 'sim', account: 'A', tradeId: 'T', contractKey: 'K', side: 'hold' as never, quantity: 1, price: 1, executedAt: 1, source: 'x' };
    expect(() => validateTrades([t])).toThrow(/side/);
  });
});

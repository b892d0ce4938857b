import { getTableConfig } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { schema } from '../../src/db/schema.js';
import { describeBackends, openTestStorage, type TestStorage } from '../helpers/pg.js';
import { T0, position, snapshot, trade } from './fixtures.js';

const C1 = 'SPY   251219C00500000';
const C2 = 'SPY   251219P00450000';
const Q1 = 'QQQ   251219C00500000';

describeBackends('storage queries', (backend) => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage(backend);
    await t.storage.ensurePartitions(T0);
    await t.storage.writeSnapshots([
      snapshot({ account: 'A', contractKey: C1, eventTs: T0 + 1000, seq: 0, delta: 0.1 }),
      snapshot({ account: 'A', contractKey: C1, eventTs: T0 + 3000, seq: 0, delta: 0.3 }),
      // Same event time, higher broker sequence: this is the newest for C1.
      snapshot({ account: 'A', contractKey: C1, eventTs: T0 + 3000, seq: 5, delta: 0.35 }),
      // Written after the newer ones (out of order) but older: must not become "latest".
      snapshot({ account: 'A', contractKey: C1, eventTs: T0 + 2000, seq: 9, delta: 0.2 }),
      snapshot({ account: 'A', contractKey: C2, eventTs: T0 + 1500, delta: -0.4 }),
      snapshot({ account: 'B', contractKey: C1, eventTs: T0 + 500, delta: 0.05 }),
      snapshot({ account: 'B', contractKey: Q1, underlying: 'QQQ', eventTs: T0 + 2500, delta: 0.6 }),
      snapshot({ broker: 'ibkr', account: 'A', contractKey: C1, eventTs: T0 + 4000, delta: 0.45 }),
    ]);
  });
  afterAll(() => t?.close());

  it('querySnapshots returns newest first, by event time then sequence', async () => {
    const rows = await t.storage.querySnapshots({ broker: 'sim', account: 'A', contractKey: C1 });
    expect(rows.map((r) => [r.eventTs - T0, r.seq])).toEqual([[3000, 5], [3000, 0], [2000, 9], [1000, 0]]);
  });

  it('querySnapshots filters by broker, account, contract, underlying and time range', async () => {
    expect((await t.storage.querySnapshots({ broker: 'ibkr' })).map((r) => r.delta)).toEqual([0.45]);
    expect((await t.storage.querySnapshots({ underlying: 'QQQ' })).map((r) => r.contractKey)).toEqual([Q1]);
    expect((await t.storage.querySnapshots({ account: 'B' })).map((r) => r.delta)).toEqual([0.6, 0.05]);
    // from inclusive, to exclusive
    const ranged = await t.storage.querySnapshots({ broker: 'sim', from: T0 + 1500, to: T0 + 3000 });
    expect(ranged.map((r) => r.eventTs - T0)).toEqual([2500, 2000, 1500]);
  });

  it('querySnapshots honours the limit', async () => {
    const rows = await t.storage.querySnapshots({ limit: 2 });
    expect(rows.map((r) => r.eventTs - T0)).toEqual([4000, 3000]);
  });

  it('latestSnapshots picks the newest row per position by event time, then sequence', async () => {
    const latest = await t.storage.latestSnapshots({ broker: 'sim' });
    const byKey = Object.fromEntries(latest.map((r) => [`${r.account}/${r.contractKey}`, r.delta]));
    expect(byKey).toEqual({ [`A/${C1}`]: 0.35, [`A/${C2}`]: -0.4, [`B/${C1}`]: 0.05, [`B/${Q1}`]: 0.6 });
  });

  it('latestSnapshots respects filters, including an upper time bound', async () => {
    const latest = await t.storage.latestSnapshots({ broker: 'sim', account: 'A', contractKey: C1, to: T0 + 2500 });
    expect(latest.map((r) => [r.eventTs - T0, r.delta])).toEqual([[2000, 0.2]]);
  });

  it('replacePositions upserts the new set and removes closed positions of that account only', async () => {
    await t.storage.replacePositions('sim', 'P1', [
      position({ account: 'P1', contractKey: C1 }),
      position({ account: 'P1', contractKey: C2, quantity: 3, avgPrice: null }),
    ], T0);
    await t.storage.replacePositions('sim', 'P2', [position({ account: 'P2', contractKey: C1 })], T0);
    // C2 closed, C1 resized, Q1 opened.
    await t.storage.replacePositions('sim', 'P1', [
      position({ account: 'P1', contractKey: C1, quantity: -5 }),
      position({ account: 'P1', contractKey: Q1, underlying: 'QQQ', quantity: 1 }),
    ], T0 + 1000);
    const p1 = await t.storage.listPositions({ broker: 'sim', account: 'P1' });
    expect(p1.map((p) => [p.contractKey, p.quantity, p.updatedAt - T0])).toEqual([[Q1, 1, 1000], [C1, -5, 1000]]);
    expect((await t.storage.listPositions({ account: 'P2' })).map((p) => p.contractKey)).toEqual([C1]);
    expect((await t.storage.listPositions({ underlying: 'QQQ' })).map((p) => p.account)).toEqual(['P1']);
  });

  it('replacePositions with an empty set closes every position of the account', async () => {
    await t.storage.replacePositions('sim', 'P3', [position({ account: 'P3' })], T0);
    await t.storage.replacePositions('sim', 'P3', [], T0 + 1);
    expect(await t.storage.listPositions({ account: 'P3' })).toEqual([]);
  });

  it('replacePositions ignores a set older than what is stored', async () => {
    await t.storage.replacePositions('sim', 'P4', [position({ account: 'P4', quantity: 7 })], T0 + 5000);
    await t.storage.replacePositions('sim', 'P4', [], T0 + 1000);
    await t.storage.replacePositions('sim', 'P4', [position({ account: 'P4', quantity: 1 })], T0 + 2000);
    const rows = await t.storage.listPositions({ account: 'P4' });
    expect(rows.map((p) => [p.quantity, p.updatedAt - T0, p.assetClass, p.avgPrice])).toEqual([[7, 5000, 'option', 4.5]]);
  });

  it('writeTrades is idempotent per (broker, trade_id)', async () => {
    const batch = [trade({ tradeId: 'T1' }), trade({ tradeId: 'T2', executedAt: T0 + 10, side: 'buy' })];
    expect(await t.storage.writeTrades(batch)).toEqual({ inserted: 2, duplicates: 0 });
    // Same ids again (even with different values), plus one id repeated inside the batch.
    const again = [trade({ tradeId: 'T1', price: 99 }), trade({ tradeId: 'T3' }), trade({ tradeId: 'T3' })];
    expect(await t.storage.writeTrades(again)).toEqual({ inserted: 1, duplicates: 2 });
    // The same trade id at another broker is another trade.
    expect(await t.storage.writeTrades([trade({ broker: 'ibkr', tradeId: 'T1' })])).toEqual({ inserted: 1, duplicates: 0 });
    const sim = await t.storage.listTrades({ broker: 'sim' });
    expect(sim.map((r) => [r.tradeId, r.price])).toEqual([['T2', 4.2], ['T1', 4.2], ['T3', 4.2]]);
    expect(sim[0]).toEqual({ ...trade({ tradeId: 'T2', executedAt: T0 + 10, side: 'buy' }), fees: null }); // no fee given: null (D78)
  });

  it('listTrades filters by account and time range and honours the limit', async () => {
    await t.storage.writeTrades([
      trade({ account: 'L', tradeId: 'L1', executedAt: T0 }),
      trade({ account: 'L', tradeId: 'L2', executedAt: T0 + 100 }),
      trade({ account: 'L', tradeId: 'L3', executedAt: T0 + 200 }),
    ]);
    expect((await t.storage.listTrades({ account: 'L', from: T0 + 100 })).map((r) => r.tradeId)).toEqual(['L3', 'L2']);
    expect((await t.storage.listTrades({ account: 'L', to: T0 + 100 })).map((r) => r.tradeId)).toEqual(['L1']);
    expect((await t.storage.listTrades({ account: 'L', limit: 1 })).map((r) => r.tradeId)).toEqual(['L3']);
  });

  it('query runs parameterised reporting SQL and returns plain rows', async () => {
    const rows = await t.storage.query<{ account: string; n: number }>(
      'SELECT account, count(*)::int AS n FROM greek_snapshots WHERE broker = $1 GROUP BY account ORDER BY account',
      ['sim'],
    );
    expect(rows).toEqual([{ account: 'A', n: 5 }, { account: 'B', n: 2 }]);
  });

  it('the drizzle schema (src/db/schema.ts) matches the tables the migrations made', async () => {
    const byName = (a: { name: string }, b: { name: string }) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    for (const table of Object.values(schema)) {
      const cfg = getTableConfig(table);
      const expected = cfg.columns.map((c) => ({ name: c.name, type: c.getSQLType(), nullable: !c.notNull })).sort(byName);
      const actual = await t.storage.query<{ name: string; type: string; nullable: boolean }>(
        `SELECT column_name AS name, data_type AS type, is_nullable = 'YES' AS nullable
           FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY column_name`,
        [cfg.name],
      );
      // Both sides sorted in JS (the database's collation orders "iv30" and "iv_index" its own way).
      expect(actual.sort(byName), cfg.name).toEqual(expected);
    }
  });

  it('raw query returns the same value types on both backends (bigint as number, numeric as string, timestamptz as Date)', async () => {
    const [row] = await t.storage.query<{ n: unknown; x: unknown; ts: unknown }>(
      "SELECT count(*) AS n, 1.5::numeric AS x, timestamptz '2025-01-02 15:00:00Z' AS ts FROM greek_snapshots WHERE account = $1",
      ['A'],
    );
    expect(row.n).toBe(6);
    expect(row.x).toBe('1.5');
    expect(row.ts).toBeInstanceOf(Date);
    expect((row.ts as Date).getTime()).toBe(T0);
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { FileJournal, MemoryJournal } from '../../src/core/journal.js';
import { isTradeRow } from '../../src/core/journalRows.js';
import type { TradeRow } from '../../src/core/types.js';
import { computeRisk } from '../../src/risk/compute.js';
import { riskJson } from '../../src/risk/json.js';
import { DEFAULT_RULES } from '../../src/risk/rules.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';

const T0 = Date.parse('2026-11-18T15:00:00Z');
const NOW = Date.parse('2026-11-20T15:00:00Z');
const KEY = 'SPY   261218C00500000';
const trade = (id: string, side: 'buy' | 'sell', quantity: number, price: number, at: number, fees?: number | null): TradeRow =>
  ({ broker: 'tasty', account: 'A1', tradeId: id, contractKey: KEY, side, quantity, price, executedAt: at, source: 'test', ...(fees === undefined ? {} : { fees }) });

describePg('trade fees (migration 0007) on PostgreSQL: stored, replayed once, realized P&L net of them, POST /v1/trades fee', () => {
  let t: TestStorage;
  let pipeline: Pipeline;
  let app: FastifyInstance;
  const dir = mkdtempSync(join(tmpdir(), 'alerts14-fees-'));
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    app = await buildApi({ pipeline, storage: t.storage, log: testLogger, now: () => NOW });
  });
  afterAll(async () => {
    await app?.close();
    await pipeline?.stop();
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('trades.fees is a nullable double precision column added by 0007_trade_fees', async () => {
    const cols = await t.storage.query<{ data_type: string; is_nullable: string }>(
      "SELECT data_type, is_nullable FROM information_schema.columns WHERE table_name = 'trades' AND column_name = 'fees'");
    expect(cols).toEqual([{ data_type: 'double precision', is_nullable: 'YES' }]);
    const applied = await t.storage.query<{ id: string }>("SELECT id FROM riskwire_migrations WHERE id = '0007_trade_fees'");
    expect(applied).toHaveLength(1);
  });

  it('a journaled batch replayed twice stores each fill once with its fees; realized P&L takes the fees off once, and shows them', async () => {
    const journal = new FileJournal(join(dir, 'trades'), { validate: isTradeRow });
    // buy 2 @ 1.00 (fees 2.60), sell 2 @ 3.00 (fees 2.74), one fill without a fee (null)
    const segment = journal.append([trade('f1', 'buy', 2, 1, T0, 2.6), trade('f2', 'sell', 2, 3, T0 + 60_000, 2.74), trade('f3', 'buy', 1, 2.5, T0 + 120_000, null)]);
    const rows = journal.read(segment) as TradeRow[];
    expect(rows.map((r) => r.fees)).toEqual([2.6, 2.74, null]); // the journal keeps them
    expect(await t.storage.writeTrades(rows)).toMatchObject({ inserted: 3 });
    expect(await t.storage.writeTrades(rows)).toMatchObject({ inserted: 0 }); // a replay after a crash
    const stored = await t.storage.listTrades({ broker: 'tasty' });
    expect(stored.map((r) => [r.tradeId, r.fees])).toEqual([['f3', null], ['f2', 2.74], ['f1', 2.6]]);

    await t.storage.replacePositions('tasty', 'A1', [{ broker: 'tasty', account: 'A1', contractKey: KEY, underlying: 'SPY', quantity: 1, multiplier: 100, avgPrice: 2.5, assetClass: 'option' }], T0 + 120_000);
    const doc = riskJson(await computeRisk(t.storage, { now: NOW, benchmark: 'SPY', rules: DEFAULT_RULES }));
    const p = doc.positions.find((x) => x.contract_key === KEY)!;
    // gross (3 − 1) × 2 × 100 = 400; fees 2.60 + 2.74 = 5.34 → net 394.66
    expect(p.fees).toBeCloseTo(5.34, 9);
    expect(p.realized_pnl).toBeCloseTo(394.66, 9);
    expect(doc.totals.fees).toBeCloseTo(5.34, 9);
    expect(doc.totals.realized_pnl).toBeCloseTo(394.66, 9);
  });

  it('POST /v1/trades takes an optional fee (stored, listed); a bad fee is a 400 naming the field', async () => {
    const body = { broker: 'manual', account: 'ACC1', trade_id: 'fee-1', contract_key: 'SPY   261218C00500000', side: 'buy', quantity: 1, price: 2, executed_at: '2026-11-19T15:00:00Z' };
    const post = (payload: object) => app.inject({ method: 'POST', url: '/v1/trades', payload });
    const created = await post({ ...body, fee: 1.3 });
    expect(created.statusCode).toBe(201);
    expect(created.json().trade).toMatchObject({ trade_id: 'fee-1', fee: 1.3 });
    expect((await post({ ...body, trade_id: 'fee-2' })).json().trade.fee).toBeNull(); // not given: not known
    const list = (await app.inject({ method: 'GET', url: '/v1/trades?broker=manual' })).json().trades as { trade_id: string; fee: number | null }[];
    expect(list.map((x) => [x.trade_id, x.fee]).sort()).toEqual([['fee-1', 1.3], ['fee-2', null]]);
    for (const fee of ['1.3', 1e12, true, {}]) {
      const res = await post({ ...body, trade_id: 'fee-bad', fee });
      expect(res.statusCode, JSON.stringify(fee)).toBe(400);
      expect(res.json().error).toMatch(/^fee must be a number from -1e9 to 1e9/);
    }
  });
});

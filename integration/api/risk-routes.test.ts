import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { insertAlert } from '../../src/db/alerts.js';
import { openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';

describe('risk and alert routes over a real database (app.inject)', () => {
  let t: TestStorage;
  let pipeline: Pipeline;
  let app: FastifyInstance;
  const now = Date.now();
  beforeAll(async () => {
    t = await openTestStorage('pglite');
    await t.storage.replacePositions('tasty', 'A1', [
      { broker: 'tasty', account: 'A1', contractKey: 'SPY   991217C00500000', underlying: 'SPY', quantity: -2, multiplier: 100, avgPrice: 5, assetClass: 'option' },
      { broker: 'tasty', account: 'A1', contractKey: 'SPY', underlying: 'SPY', quantity: 200, multiplier: 1, avgPrice: 500, assetClass: 'equity' },
    ], now - 5000);
    await t.storage.writeSnapshots([{
      broker: 'tasty', account: 'A1', contractKey: 'SPY   991217C00500000', underlying: 'SPY', eventTs: now - 1000, seq: 0, receivedAt: now - 1000,
      quantity: -2, multiplier: 100, bid: 3.9, ask: 4.1, mark: 4, underlyingPrice: 510, iv: 0.2, delta: 0.6, gamma: 0.01, theta: -0.05, vega: 0.3, rho: 0,
    }]);
    await insertAlert(t.storage, { id: null, rule: 'limit_delta', subject: 'portfolio', openedAt: now - 60_000, closedAt: null, value: 5, threshold: 1, message: 'm' });
    pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    app = await buildApi({ pipeline, storage: t.storage, log: testLogger });
  });
  afterAll(async () => {
    await app?.close();
    await pipeline?.stop();
    await t?.close();
  });
  const get = async (url: string) => {
    const res = await app.inject({ method: 'GET', url });
    return { status: res.statusCode, body: res.json() };
  };

  it('/v1/risk/positions is the risk --json document (stock in delta)', async () => {
    const r = await get('/v1/risk/positions?underlying=spy');
    expect(r.status).toBe(200);
    expect(r.body.benchmark).toEqual({ symbol: 'SPY', price: 510 });
    // option -2 × 100 × 0.6 = -120, stock +200 → 80; unrealized (4-5)×-200 = 200 and (510-500)×200 = 2000
    expect(r.body.totals).toMatchObject({ positions: 2, delta: 80, dollar_delta: 40_800, bwd: 80, unrealized_pnl: 2200 });
    expect(r.body.strategies.map((s: { kind: string }) => s.kind)).toEqual(['covered_call']);
  });

  it('/v1/risk/summary has no positions, has data_age_ms; /v1/risk/scenarios the grid', async () => {
    const s = await get('/v1/risk/summary');
    expect(s.status).toBe(200);
    expect(s.body.positions).toBeUndefined();
    expect(s.body.data_age_ms).toBeGreaterThanOrEqual(0);
    const g = await get('/v1/risk/scenarios?mode=beta');
    expect(g.status).toBe(200);
    expect(g.body.spot_moves_pct).toEqual([-10, -5, -2, -1, 0, 1, 2, 5, 10]);
    expect(g.body.rows).toHaveLength(2 * 54); // portfolio and SPY: 9 moves × 3 IV shifts × 2 days each
  });

  it('/v1/alerts lists, filters open, and bad parameters are 400s', async () => {
    const a = await get('/v1/alerts?open=1&since=1d');
    expect(a.status).toBe(200);
    expect(a.body.alerts.map((x: { rule: string; closed_at: string | null }) => [x.rule, x.closed_at])).toEqual([['limit_delta', null]]);
    for (const url of ['/v1/alerts?since=yesterday', '/v1/alerts?open=maybe', '/v1/risk/scenarios?mode=sideways', '/v1/risk/summary?benchmark=S%20P', '/v1/risk/positions?x=1']) {
      expect((await get(url)).status, url).toBe(400);
    }
  });
});

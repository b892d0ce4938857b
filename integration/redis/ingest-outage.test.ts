/**
 * Redis goes away during ingest: the sim broker streams through a real worker into PostgreSQL
 * while the Redis fan-out's connection is cut (TCP proxy) and later restored. Every update is
 * stored exactly once in PostgreSQL, the sink dropped and counted meanwhile, and after the
 * reconnect Redis holds the latest price of every underlying (price:{symbol}, from the sim's quotes).
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { openStorage, type Storage } from '../../src/db/index.js';
import { rowCount, seqSpans, totalRows, expectCompleteSpans } from '../faults/spans.js';
import { describePg, freshPostgresUrl, testLogger } from '../helpers/pg.js';
import { startProxy, type TcpProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';
import { cleanPrefix, describeRedis, REDIS_TEST_URL, uniquePrefix } from './helpers.js';

const RATE = 1000;
const DURING = 600; // updates produced while Redis is cut (the sim runs until the test stops it)

describeRedis('redis outage during ingest', () => {
  describePg('with PostgreSQL', () => {
    const prefix = uniquePrefix();
    let db: { url: string; drop(): Promise<void> };
    let storage: Storage;
    let proxy: TcpProxy;
    let admin: Redis;
    beforeAll(async () => {
      db = await freshPostgresUrl();
      storage = await openStorage({ databaseUrl: db.url, log: testLogger, maxConnections: 4 });
      const u = new URL(REDIS_TEST_URL);
      proxy = await startProxy(Number(u.port || 6379), u.hostname);
      admin = new Redis(REDIS_TEST_URL);
    });
    afterAll(async () => {
      proxy?.restore();
      await proxy?.close();
      await storage?.close();
      await db?.drop();
      if (admin) {
        await cleanPrefix(admin, prefix);
        admin.disconnect();
      }
    });

    it('loses 0 rows in PostgreSQL, counts the drops, and catches up with the latest prices', { timeout: 60_000 }, async () => {
      const pipeline = new Pipeline({
        storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal(),
        redis: { url: proxy.url(REDIS_TEST_URL), prefix, flushMs: 50 },
      });
      const sink = pipeline.redis!;
      await waitFor(() => sink.stats().up, 'the sink to connect');
      await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: String(RATE), accounts: '1', dup: '0' } });
      const stats = () => pipeline.processor.stats();
      await waitFor(async () => (await admin.get(`${prefix}price:SPY`)) !== null, 'price:SPY in Redis before the outage', 20_000);

      proxy.cut();
      await waitFor(() => !sink.stats().up, 'the sink to see the outage');
      const producedAtCut = stats().rowsProduced;
      await waitFor(() => stats().rowsProduced >= producedAtCut + DURING, 'updates produced during the outage', 20_000);
      const during = sink.stats();
      expect(during.dropped).toBeGreaterThan(0);
      expect(during.pendingKeys).toBeGreaterThan(0); // the latest per key waits; bounded by the keys, not the ticks
      expect(during.pendingKeys).toBeLessThan(50);

      proxy.restore();
      await waitFor(() => sink.stats().up && sink.stats().reconnects >= 1, 'the sink to reconnect', 20_000);
      await pipeline.stopActor('sim');
      const COUNT = stats().rowsProduced;
      await waitFor(async () => (await rowCount((t, p) => storage.query(t, p))) === COUNT, 'every row in PostgreSQL', 30_000, 100);
      await sink.flush(true); // the last prices of the stopped sim
      // /metrics carries the sink's status and counters.
      const app = await buildApi({ pipeline, storage, log: testLogger });
      const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
      await app.close();
      expect(metrics).toMatch(/^riskwire_redis_up 1$/m);
      expect(metrics).toMatch(/^riskwire_redis_reconnects_total [1-9]/m);
      expect(Number(metrics.match(/^riskwire_redis_dropped_total (\d+)/m)?.[1])).toBe(sink.stats().dropped);
      // Stop writes the last state (flush) before quitting Redis.
      const report = await pipeline.stop();
      expect(report.drained).toBe(true);

      const spans = await seqSpans((t, p) => storage.query(t, p));
      expect(totalRows(spans)).toBe(COUNT);
      expectCompleteSpans(spans, 5);
      expect(stats().drops.rejected).toBe(0);

      // The latest price of each underlying = the processor's last quote of it.
      const last = new Map(pipeline.processor.quotePrices().map((q) => [q.symbol, q.price]));
      for (const sym of ['SPY', 'SPX', 'AAPL', 'QQQ']) {
        const v = JSON.parse((await admin.get(`${prefix}price:${sym}`))!);
        expect(v.price).toBeCloseTo(last.get(sym)!, 9);
        expect(await admin.pttl(`${prefix}price:${sym}`)).toBeGreaterThan(290_000);
      }
      const end = sink.stats();
      expect(end.flushErrors + end.dropped).toBeGreaterThan(0);
      expect(end.updates.price).toBeGreaterThan(0);
      expect(end.updates.greeks).toBeGreaterThan(0);
    });
  });
});

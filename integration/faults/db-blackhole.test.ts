/**
 * A blackholed database: packets vanish, no RST, no answer (a dead host, a firewall drop). Without
 * timeouts every statement waits forever: POST /v1/trades got no answer in 45 s. Here the driver's
 * deadline (DB_STATEMENT_TIMEOUT_MS + DB_CONNECT_TIMEOUT_MS) turns silence into a retryable
 * QUERY_TIMEOUT, POST /v1/trades answers 202 (journaled) within TRADE_ACCEPT_WAIT_MS, a stop
 * journals everything at once, and the next start writes it all: loss 0, each row once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { openStorage, type Storage } from '../../src/db/index.js';
import { describePg, freshPostgresUrl, testLogger } from '../helpers/pg.js';
import { startProxy, type TcpProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';
import { expectCompleteSpans, rowCount, seqSpans } from './spans.js';

describePg('fault: the database is blackholed (no answer at all)', () => {
  let db: { url: string; drop(): Promise<void> };
  let proxy: TcpProxy;
  let storage: Storage;
  let journalDir: string;
  beforeAll(async () => {
    db = await freshPostgresUrl();
    proxy = await startProxy(Number(new URL(db.url).port || 5432));
    journalDir = await mkdtemp(join(tmpdir(), 'rw-fault-hole-'));
    storage = await openStorage({ databaseUrl: proxy.url(db.url), log: testLogger, maxConnections: 4, connectTimeoutSec: 1, statementTimeoutMs: 1000 });
  });
  afterAll(async () => {
    proxy?.restore();
    await storage?.close().catch(() => undefined);
    await proxy?.close();
    await db?.drop();
    if (journalDir) await rm(journalDir, { recursive: true, force: true });
  });

  it('answers POST /v1/trades, stops at once, and the next start writes everything exactly once', { timeout: 120_000 }, async () => {
    const config = readAppConfig({ FLUSH_MAX_PENDING_ROWS: '2000', JOURNAL_DIR: journalDir, TRADE_ACCEPT_WAIT_MS: '1000' });
    const pipeline = new Pipeline({ storage, config, log: testLogger });
    const app = await buildApi({ pipeline, storage, log: testLogger });
    await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: '500', accounts: '2' } });
    const stats = () => pipeline.processor.stats();
    await waitFor(() => stats().flush.rowsWritten >= 500, 'rows written before the blackhole', 30_000);

    proxy.blackhole();
    const trade = { broker: 'manual', account: 'ACC-1', trade_id: 'hole-1', contract_key: 'SPY   261218C00500000', side: 'buy', quantity: 2, price: 1.25, executed_at: '2026-12-01T15:00:00Z' };
    const res = await app.inject({ method: 'POST', url: '/v1/trades', payload: trade });
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ journaled: true, trade: { trade_id: 'hole-1' } });
    // The writer is not stuck on silent sockets: its statements time out and are retried.
    await waitFor(() => /QUERY_TIMEOUT|CONNECT_TIMEOUT/.test(stats().flush.lastError ?? ''), 'a client-side timeout seen by the writer', 30_000);
    await waitFor(() => pipeline.processor.writesFailing, 'writes failing', 10_000);
    const status = (await app.inject({ method: 'GET', url: '/v1/streaming/status' })).json();
    expect(status.processor.writers.snapshots.failing).toBe(true);
    expect(status.processor.writers.trades_accepted_to_journal).toBe(1);

    // Stop while blackholed: everything pending goes to the journal at once (no 15 s drain).
    const report = await pipeline.stop();
    await app.close();
    expect(report.drained).toBe(false);
    expect(report.lostRows).toBe(0);
    expect(report.journaledRows).toBeGreaterThan(0);
    const produced = stats().rowsProduced;

    proxy.restore();
    const again = new Pipeline({ storage, config, log: testLogger });
    await waitFor(async () => (await rowCount((t, p) => storage.query(t, p))) === produced, 'every accepted row written by the next start', 60_000, 250);
    await again.processor.drain();
    await again.stop();
    const spans = await seqSpans((t, p) => storage.query(t, p));
    expectCompleteSpans(spans, 2 * 5);
    expect(spans.reduce((n, s) => n + s.n, 0)).toBe(produced); // loss 0, no double
    expect((await storage.listTrades({ broker: 'manual' })).map((t) => t.tradeId)).toEqual(['hole-1']);
    console.log(`[db-blackhole] ${produced} rows accepted, ${report.journaledRows} journaled at stop, ${produced} stored after restart: lost 0`);
  });
});

/**
 * The database turns read-only for 10 s (a failover, a hot standby: SQLSTATE 25006), under load.
 * Made on our own fresh database only: `ALTER DATABASE <it> SET default_transaction_read_only`
 * and its own backends terminated (as a failover ends them), then reset the same way. The writer
 * must treat 25006 (and the 57P01 of the terminated sessions) as "later", never as "this row is
 * bad": afterwards every per-contract seq run is complete, nothing rejected, nothing dead-lettered.
 * A fill that arrives during the window is stored once too.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { openStorage, type Storage } from '../../src/db/index.js';
import { describePg, freshPostgresUrl, TEST_DATABASE_URL, testLogger } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { expectCompleteSpans, rowCount, seqSpans, totalRows } from './spans.js';

const RATE = 1000;
const COUNT = 14_000; // unique updates per account: ~14 s of production, 10 s of it read-only
const ACCOUNTS = 2;
const WINDOW_MS = 10_000;

describePg('fault: the database is read-only for 10 s under load', () => {
  let db: { url: string; drop(): Promise<void> };
  let admin: postgres.Sql;
  let storage: Storage;
  let journalDir: string;
  let name: string;
  const setReadOnly = async (on: boolean) => {
    await admin.unsafe(`ALTER DATABASE "${name}" ${on ? 'SET default_transaction_read_only = on' : 'RESET default_transaction_read_only'}`);
    // Only this test's own database's sessions: they reconnect and get the new default.
    await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${name} AND pid <> pg_backend_pid()`;
  };
  beforeAll(async () => {
    db = await freshPostgresUrl();
    name = new URL(db.url).pathname.slice(1);
    admin = postgres(TEST_DATABASE_URL, { max: 1, onnotice: () => {} });
    journalDir = await mkdtemp(join(tmpdir(), 'rw-fault-ro-'));
    storage = await openStorage({ databaseUrl: db.url, log: testLogger, maxConnections: 4 });
  });
  afterAll(async () => {
    await storage?.close().catch(() => undefined);
    await admin?.end({ timeout: 1 });
    await db?.drop();
    if (journalDir) await rm(journalDir, { recursive: true, force: true });
  });

  it('loses no row: 25006 is retried (journaled past the bound), never rejected', { timeout: 120_000 }, async () => {
    const pipeline = new Pipeline({ storage, config: readAppConfig({ FLUSH_MAX_PENDING_ROWS: '3000', JOURNAL_DIR: journalDir }), log: testLogger });
    await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: String(RATE), count: String(COUNT), accounts: String(ACCOUNTS) } });
    const stats = () => pipeline.processor.stats();
    await waitFor(() => stats().flush.rowsWritten >= 1000, 'rows written before the window', 30_000);

    await setReadOnly(true);
    const fill = { kind: 'trade' as const, broker: 'sim', account: 'SIM-1', tradeId: 'ro-fill-1', contractKey: 'SPY   261218C00500000', side: 'buy' as const, quantity: 1, price: 2.5, executedAt: Date.now(), source: 'test' };
    pipeline.processor.ingest([fill, fill]);
    await waitFor(() => /25006|read-only/.test(stats().flush.lastError ?? ''), 'a read-only refusal seen by the writer', 15_000);
    await new Promise((r) => setTimeout(r, WINDOW_MS)); // the fault window itself (not a timed assertion)
    const during = stats();
    expect(during.flush.retries).toBeGreaterThan(0);
    expect(during.flush.rejected).toBe(0);
    expect(during.trades.rowsWritten).toBe(0);
    await setReadOnly(false);

    await waitFor(() => stats().rowsProduced === COUNT * ACCOUNTS, 'the sim to produce every update', 30_000);
    await waitFor(async () => (await rowCount((t, p) => storage.query(t, p))) === COUNT * ACCOUNTS, 'every row in the database after the window', 60_000, 250);
    // The fill's writer had failed more often than the snapshots' one; it follows them at once (retryNow).
    await waitFor(() => stats().trades.rowsWritten === 1 && !pipeline.processor.writesFailing, 'the fill written and every writer healthy', 10_000);
    const report = await pipeline.stop();
    expect(report.drained).toBe(true);

    const spans = await seqSpans((t, p) => storage.query(t, p));
    expectCompleteSpans(spans, ACCOUNTS * 5); // no gap, no double: loss 0
    expect(totalRows(spans)).toBe(COUNT * ACCOUNTS);
    const end = stats();
    expect(end.flush.rejected + end.trades.rejected + end.positions.rejected).toBe(0);
    expect(end.deadLettered).toBe(0);
    const trades = await storage.listTrades({ broker: 'sim' });
    expect(trades.map((t) => t.tradeId)).toEqual(['ro-fill-1']);
    console.log(`[db-readonly] ${COUNT * ACCOUNTS} rows, read-only ${WINDOW_MS} ms: retries ${end.flush.retries}, spilled ${end.flush.spilledRows}, rejected 0, lost 0`);
  });
});

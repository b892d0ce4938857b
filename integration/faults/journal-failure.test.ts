/**
 * The journal cannot be written during a database outage (disk full, folder gone: here the
 * folder is replaced by a file, so every append fails with ENOTDIR, as root too). The writer
 * must keep the rows it holds in memory, say so (status, metrics), and write every one of them
 * when the database is back: loss 0. (A stop while both are broken is in journal-stop.test.ts.)
 */
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
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
import { expectCompleteSpans, rowCount, seqSpans, totalRows } from './spans.js';

const COUNT = 3000;
const ACCOUNTS = 2;

describePg('fault: the journal cannot be written while the database is down', () => {
  let db: { url: string; drop(): Promise<void> };
  let proxy: TcpProxy;
  let storage: Storage;
  let base: string;
  beforeAll(async () => {
    db = await freshPostgresUrl();
    proxy = await startProxy(Number(new URL(db.url).port || 5432));
    base = await mkdtemp(join(tmpdir(), 'rw-fault-jfail-'));
    storage = await openStorage({ databaseUrl: proxy.url(db.url), log: testLogger, maxConnections: 4, connectTimeoutSec: 1 });
  });
  afterAll(async () => {
    proxy?.restore();
    await storage?.close().catch(() => undefined);
    await proxy?.close();
    await db?.drop();
    if (base) await rm(base, { recursive: true, force: true });
  });

  it('keeps the rows in memory, is loud about it, and loses nothing once the database returns', { timeout: 120_000 }, async () => {
    const journalDir = join(base, 'journal');
    const pipeline = new Pipeline({ storage, config: readAppConfig({ FLUSH_MAX_PENDING_ROWS: '500', JOURNAL_DIR: journalDir }), log: testLogger });
    const app = await buildApi({ pipeline, storage, log: testLogger });
    await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: '1000', count: String(COUNT), accounts: String(ACCOUNTS) } });
    const stats = () => pipeline.processor.stats();
    await waitFor(() => stats().flush.rowsWritten >= 200, 'rows written before the outage', 30_000);

    // The folder goes (what a loaded machine already spilled goes with it) and comes back after the outage.
    const aside = join(base, 'journal-away');
    await rename(journalDir, aside);
    await writeFile(journalDir, 'the journal folder is gone'); // every append now fails (ENOTDIR)
    proxy.cut();
    await waitFor(() => stats().rowsProduced === COUNT * ACCOUNTS, 'the sim to produce every update during the outage', 40_000);
    await waitFor(() => stats().flush.journalWriteErrors > 0, 'a failed spill', 10_000);
    const during = stats();
    expect(during.flush.lastJournalError).toMatch(/ENOTDIR|EEXIST|not a directory/);
    expect(during.flush.pending).toBeGreaterThan(500); // past the bound: kept, not dropped
    const status = (await app.inject({ method: 'GET', url: '/v1/streaming/status' })).json();
    expect(status.processor.writers.snapshots.journal_write_errors).toBeGreaterThan(0);
    expect(status.processor.writers.snapshots.last_journal_error).toBeTruthy();
    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^riskwire_journal_write_errors_total\{kind="snapshots"\} [1-9]/m);

    proxy.restore();
    await rm(journalDir);
    await rename(aside, journalDir);
    await waitFor(async () => (await rowCount((t, p) => storage.query(t, p))) === COUNT * ACCOUNTS, 'every row in the database after the outage', 60_000, 250);
    const report = await pipeline.stop();
    await app.close();
    expect(report).toMatchObject({ drained: true, lostRows: 0 });
    const spans = await seqSpans((t, p) => storage.query(t, p));
    expectCompleteSpans(spans, ACCOUNTS * 5);
    expect(totalRows(spans)).toBe(COUNT * ACCOUNTS); // loss 0
    console.log(`[journal-failure] ${COUNT * ACCOUNTS} rows, ${stats().flush.journalWriteErrors} failed spills, peak pending ${during.flush.pending}: lost 0`);
  });
});

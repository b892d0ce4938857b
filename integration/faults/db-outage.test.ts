/**
 * Database outage under load: the sim broker streams ~1,000 updates/s (2 accounts → ~2,000 rows/s)
 * through a real worker into PostgreSQL reached through a TCP proxy. The proxy cuts every
 * connection and refuses new ones for as long as the sim keeps producing (several seconds), with
 * FLUSH_MAX_PENDING_ROWS=2000 so the queue overflows into the on-disk journal; then the database
 * comes back. Afterwards every unique update is stored exactly once and the journal is empty.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { FileJournal } from '../../src/core/journal.js';
import { openStorage, type Storage } from '../../src/db/index.js';
import { describePg, freshPostgresUrl, testLogger } from '../helpers/pg.js';
import { startProxy, type TcpProxy } from '../helpers/proxy.js';
import { waitFor } from '../helpers/wait.js';
import { expectCompleteSpans, rowCount, seqSpans, totalRows } from './spans.js';

const RATE = 1000;
const COUNT = 6000; // unique updates: 6 s of production at RATE, most of it during the outage
const ACCOUNTS = 2;

describePg('fault: the database goes away under load and comes back', () => {
  let db: { url: string; drop(): Promise<void> };
  let proxy: TcpProxy;
  let storage: Storage;
  let journalDir: string;
  beforeAll(async () => {
    db = await freshPostgresUrl();
    proxy = await startProxy(Number(new URL(db.url).port || 5432));
    journalDir = await mkdtemp(join(tmpdir(), 'rw-fault-journal-'));
    storage = await openStorage({ databaseUrl: proxy.url(db.url), log: testLogger, maxConnections: 4, connectTimeoutSec: 2 });
  });
  afterAll(async () => {
    proxy?.restore();
    await storage?.close().catch(() => undefined);
    await proxy?.close();
    await db?.drop();
    if (journalDir) await rm(journalDir, { recursive: true, force: true });
  });

  it('keeps every accepted row (memory, then the on-disk journal) and writes each exactly once when the database returns', { timeout: 90_000 }, async () => {
    const pipeline = new Pipeline({
      storage,
      config: readAppConfig({ FLUSH_MAX_PENDING_ROWS: '2000' }),
      log: testLogger,
      journal: new FileJournal(journalDir),
    });
    await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: String(RATE), count: String(COUNT), accounts: String(ACCOUNTS), dup: '0.05' } });
    const stats = () => pipeline.processor.stats();
    await waitFor(() => stats().flush.rowsWritten >= 1000, 'rows written before the outage', 30_000);

    proxy.cut();
    const writtenAtCut = stats().flush.rowsWritten;
    // The outage lasts until the sim has produced everything: rows pile up in memory, then spill.
    await waitFor(() => stats().rowsProduced === COUNT * ACCOUNTS, 'the sim to produce every update during the outage', 40_000);
    const during = stats().flush;
    expect(during.retries).toBeGreaterThan(0);
    expect(during.spilledRows).toBeGreaterThan(0); // the disk path was taken, not just memory
    expect(during.journaledRows).toBeGreaterThan(0);
    expect((await readdir(journalDir)).filter((f) => f.startsWith('seg-')).length).toBeGreaterThan(0);
    expect(during.pending).toBeLessThanOrEqual(2000); // the memory bound held
    // Batches in flight when the proxy cut may still have landed; nothing after.
    const flush = readAppConfig({}).flush;
    expect(during.rowsWritten - writtenAtCut).toBeLessThanOrEqual(flush.maxInFlight! * Math.max(flush.maxRows!, flush.maxBatchRows!));

    proxy.restore();
    await waitFor(async () => (await rowCount((t, p) => storage.query(t, p))) === COUNT * ACCOUNTS, 'every row in the database after the outage', 40_000, 250);
    const report = await pipeline.stop();
    expect(report.drained).toBe(true);

    const spans = await seqSpans((t, p) => storage.query(t, p));
    expectCompleteSpans(spans, ACCOUNTS * 5);
    expect(totalRows(spans)).toBe(COUNT * ACCOUNTS);
    const end = stats();
    expect(end.drops.rejected).toBe(0);
    expect(end.flush.journaledRows).toBe(0);
    expect((await readdir(journalDir)).filter((f) => f.startsWith('seg-'))).toEqual([]);
    expect(proxy.refused).toBeGreaterThan(0); // reconnect attempts really hit a dead database
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import type { GreekSnapshot } from '../../src/core/types.js';
import { StorageError, isRowRejection } from '../../src/db/errors.js';
import { createThreadWriter } from '../../src/db/snapshotWriter.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

const row = (seq: number, over: Partial<GreekSnapshot> = {}): GreekSnapshot => ({
  broker: 'wt', account: 'A1', contractKey: 'SPY   261218C00600000', underlying: 'SPY', eventTs: Date.now(), seq, receivedAt: Date.now(),
  quantity: 2, multiplier: 100, bid: 1.5, ask: null, mark: 1.55, underlyingPrice: 600.25, iv: 0.2, delta: 0.5, gamma: 0.01, theta: -0.1, vega: 0.2, rho: Number.NaN,
  ...over,
});

describePg('the writer thread (snapshot batches off the main thread)', () => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage('postgres');
  });
  afterAll(() => t?.close());

  it('writes batches on its own connections, with the same values, idempotently, and classifies errors as the main thread would', async () => {
    const writer = createThreadWriter(t.storage.target!, { log: testLogger, maxConnections: 2 });
    try {
      const rows = [row(1), row(2), row(3, { account: 'A"2', bid: null })];
      expect(await writer.write(rows)).toMatchObject({ inserted: 3, duplicates: 0 });
      expect(await writer.write(rows)).toMatchObject({ inserted: 0, duplicates: 3 }); // a replayed batch changes nothing
      const stored = await t.storage.querySnapshots({ broker: 'wt' });
      const third = stored.find((s) => s.seq === 3)!;
      expect(third).toMatchObject({ account: 'A"2', bid: null, ask: null, mark: 1.55, underlyingPrice: 600.25, rho: null, quantity: 2 });
      // A row that cannot be stored truthfully is the batch's fault: not retryable, dead-lettered by the flush policy.
      const bad = await writer.write([row(4, { contractKey: undefined as unknown as string })]).catch((e: unknown) => e);
      expect(bad).toBeInstanceOf(StorageError);
      expect(isRowRejection(bad)).toBe(true);
    } finally {
      await writer.close();
    }
    // Closed: a later write fails as retryable (the flush policy keeps the rows).
    const late = await writer.write([row(5)]).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(StorageError);
    expect((late as StorageError).retryable).toBe(true);
  });

  it('a pipeline on PostgreSQL with WRITER_THREAD=1 writes snapshots through it, and stop() drains what is in flight', async () => {
    const count = 1000;
    // A generous drain bound: this checks that stop() waits for the thread, not how fast a loaded CI box is.
    const pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({ SHUTDOWN_DRAIN_MS: '120000', WRITER_THREAD: '1' }), log: testLogger, journal: new MemoryJournal() });
    expect(pipeline.writer).toBeDefined();
    const direct = t.storage.writeSnapshots;
    let mainThreadWrites = 0;
    t.storage.writeSnapshots = (rows) => (mainThreadWrites++, direct(rows));
    try {
      await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: '1000000', 'tick-ms': '5', accounts: '1', count: String(count) } });
      await waitFor(() => pipeline.processor.stats().rowsProduced >= count, 'the sim to produce every update');
      // Stop right away: rows still queued or in flight are written before stop() returns.
      const report = await pipeline.stop();
      expect(report).toMatchObject({ drained: true, lostRows: 0 });
    } finally {
      t.storage.writeSnapshots = direct;
    }
    expect(mainThreadWrites).toBe(0);
    const [r] = await t.storage.query<{ n: number; hi: number }>(`SELECT count(*)::int AS n, sum(hi)::int AS hi FROM (SELECT count(*) AS c, max(seq) AS hi FROM greek_snapshots WHERE broker = 'sim' GROUP BY contract_key) s`);
    expect(r).toEqual({ n: expect.any(Number), hi: count });
    const [c] = await t.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM greek_snapshots WHERE broker = 'sim'`);
    expect(c.n).toBe(count);
    expect(pipeline.processor.stats().flush.rowsWritten).toBe(count);
  });

  it('without WRITER_THREAD=1 writes stay on the main thread', () => {
    const pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    expect(pipeline.writer).toBeUndefined();
    pipeline.processor.close();
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

/** Per (account, contract): how many rows, and the lowest/highest sim sequence seen. */
async function seqSpans(t: TestStorage, broker = 'sim') {
  return t.storage.query<{ account: string; contract_key: string; n: string; lo: string; hi: string; distinct_seq: string }>(
    `SELECT account, contract_key, count(*) AS n, min(seq) AS lo, max(seq) AS hi, count(DISTINCT seq) AS distinct_seq
       FROM greek_snapshots WHERE broker = $1 GROUP BY 1, 2 ORDER BY 1, 2`,
    [broker],
  );
}

describePg('sim broker through real worker threads into PostgreSQL', () => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage('postgres');
  });
  afterAll(() => t?.close());

  it('stores exactly the unique updates the sim produced, even with duplicates and out-of-order updates on the wire', async () => {
    const count = 600;
    const pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: '400', count: String(count), dup: '0.2', ooo: '0.1', accounts: '3' } });
    await waitFor(() => pipeline.processor.stats().rowsProduced >= count * 3, 'the sim to produce every update');
    await pipeline.stop();

    const spans = await seqSpans(t);
    const rows = spans.reduce((n, s) => n + Number(s.n), 0);
    expect(rows).toBe(count * 3); // every unique update × 3 holding accounts
    for (const s of spans) {
      // seq counts 1..n per contract at the sim: a complete, gap-free run means nothing lost or doubled
      expect(Number(s.lo)).toBe(1);
      expect(Number(s.hi)).toBe(Number(s.n));
      expect(Number(s.distinct_seq)).toBe(Number(s.n));
    }
    const stats = pipeline.processor.stats();
    expect(stats.drops.duplicate).toBeGreaterThan(0); // the sim did send copies, and they were dropped
    expect(stats.outOfOrder).toBeGreaterThan(0);
    const positions = await t.storage.listPositions({ broker: 'sim' });
    expect(positions).toHaveLength(15); // 3 accounts × 5 contracts
  });
});

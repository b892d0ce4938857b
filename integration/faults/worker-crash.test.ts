/**
 * Worker crash mid-stream: the sim actor streams ~1,000 updates/s into PostgreSQL; its worker is
 * made to throw (uncaught), then to call process.exit, while rows are in flight. The supervisor
 * restarts it each time. A crash loses what the sim had not yet handed over (never accepted);
 * what must hold is that every row the processor accepted is in the database, once.
 *
 * A restarted sim numbers its updates from 1 again, so per (account, contract) the stored rows,
 * ordered by event time, are one complete run 1..n per life of the actor.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import type { Fault } from '../../src/actors/protocol.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { rowCount } from './spans.js';

const ACCOUNTS = 2;

describePg('fault: the actor worker crashes mid-stream', () => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage('postgres');
  });
  afterAll(() => t?.close());

  it('stores every row the processor accepted, exactly once, across restarts', { timeout: 60_000 }, async () => {
    const pipeline = new Pipeline({
      storage: t.storage,
      config: readAppConfig({}),
      log: testLogger,
      journal: new MemoryJournal(),
      supervisor: { allowFaults: true, backoff: { baseMs: 100, maxMs: 500 } },
    });
    await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: '1000', accounts: String(ACCOUNTS), dup: '0.05' } });
    const actor = () => pipeline.supervisor.status().find((a) => a.id === 'sim')!;
    const stats = () => pipeline.processor.stats();

    const faults: Fault[] = ['throw', 'exit'];
    for (const [i, fault] of faults.entries()) {
      const rows = stats().rowsProduced;
      await waitFor(() => stats().rowsProduced > rows + 1000, `rows before the ${fault}`, 30_000);
      await pipeline.supervisor.inject('sim', fault);
      await waitFor(() => actor().restarts === i + 1 && actor().phase === 'running', `restart after the ${fault}`, 30_000);
    }
    const rows = stats().rowsProduced;
    await waitFor(() => stats().rowsProduced > rows + 1000, 'rows after the last restart', 30_000);
    const report = await pipeline.stop();
    expect(report.drained).toBe(true);

    const s = stats();
    expect(s.drops.duplicate).toBeGreaterThan(0); // the sim's copies were dropped before the database
    expect(s.drops.duplicate_db).toBe(0);
    expect(s.drops.rejected).toBe(0);
    expect(await rowCount((q, p) => t.storage.query(q, p))).toBe(s.rowsProduced - s.drops.duplicate_db);

    // One run per life of the actor: a new run starts where seq is 1 again.
    const runs = await t.storage.query<{ account: string; contract_key: string; run: number; n: number; lo: number; hi: number; distinct_seq: number }>(
      `SELECT account, contract_key, run, count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi, count(DISTINCT seq)::int AS distinct_seq
         FROM (SELECT account, contract_key, seq,
                      count(*) FILTER (WHERE seq = 1) OVER (PARTITION BY account, contract_key ORDER BY event_ts, seq) AS run
                 FROM greek_snapshots WHERE broker = 'sim') r
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
    );
    expect(runs).toHaveLength(ACCOUNTS * 5 * (faults.length + 1));
    for (const r of runs) {
      const where = `${r.account} ${r.contract_key} run ${r.run}`;
      expect([r.lo, r.hi, r.distinct_seq], where).toEqual([1, r.n, r.n]);
    }
  });
});

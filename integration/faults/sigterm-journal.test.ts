/**
 * A process asked to stop while the database is down: `ingest` (a child process, DATABASE_URL
 * through a proxy) is streaming when the database goes away; the sim finishes its run; SIGTERM.
 * After SHUTDOWN_DRAIN_MS the process journals everything it still holds and exits 0. The
 * database comes back, ingest starts again, and the journal is written: every unique update of
 * the first run is stored exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePg } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { logLines, simSettled, replayRun, runCli, startRig, type Rig } from './ingest-child.js';
import { expectCompleteSpans, totalRows, type Span } from './spans.js';

const COUNT = 3000;
const ACCOUNTS = 2;

describePg('fault: SIGTERM while the database is down, then a restart', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(() => rig?.close());

  it('journals the rows it could not write and the next start writes them, each exactly once', { timeout: 90_000 }, async () => {
    const run = runCli('ingest', ['--broker=sim', '--rate=1000', `--count=${COUNT}`, `--accounts=${ACCOUNTS}`, '--status-every=100ms'],
      rig.env({ SHUTDOWN_DRAIN_MS: '500', FLUSH_MAX_PENDING_ROWS: '1000' }));
    try {
      await waitFor(async () => (await rig.dbRows()) > 200, 'rows before the outage', 40_000, 100);
      rig.proxy.cut();
      await waitFor(() => simSettled(run, COUNT), 'the sim to finish during the outage', 60_000, 100);
      const before = await rig.dbRows();
      expect(before).toBeLessThan(COUNT * ACCOUNTS);
      run.child.kill('SIGTERM');
      expect(await run.exit).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
    const finished = logLines(run).find((l) => l.msg === 'ingest finished');
    expect(finished?.journaledRows).toBeGreaterThan(0);
    expect(logLines(run).some((l) => String(l.msg).startsWith('database did not take all rows in time'))).toBe(true);
    const onDisk = await rig.journalRows();
    expect((await rig.dbRows()) + onDisk).toBeGreaterThanOrEqual(COUNT * ACCOUNTS); // nothing accepted is only in memory

    rig.proxy.restore();
    const again = replayRun(rig);
    expect(await again.exit).toBe(0);
    expect(logLines(again).some((l) => l.msg === 'journal found: replaying rows from an earlier run')).toBe(true);
    expect(await rig.journalRows()).toBe(0);
    const spans = await rig.sql<Span[]>`SELECT account, contract_key, count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi,
                                               count(DISTINCT seq)::int AS distinct_seq
                                          FROM greek_snapshots WHERE broker = 'sim' GROUP BY 1, 2 ORDER BY 1, 2`;
    expectCompleteSpans([...spans], ACCOUNTS * 5);
    expect(totalRows([...spans])).toBe(COUNT * ACCOUNTS);
  });
});

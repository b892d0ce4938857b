/**
 * Connections that die while a new PostgreSQL session is being set up. postgres.js 3.4.9 asks
 * every new connection for the server's array types (an internal catalog query) and drops that
 * query's promise (connection.js, ReadyForQuery → fetchArrayTypes(); porsager/postgres#1192,
 * #1223): when the connection dies during it, the rejection is unhandled and Node ends the
 * process with every row it held in memory. With binary COPY the pipeline's first batches land
 * sooner, so a database cut at ~200 rows (sigterm-journal.test.ts) caught the pool still opening
 * connections: rows neither stored nor journaled (D93). Here every connection opened after the
 * first rows is killed at the proxy, KILLS times, the moment it sends that catalog query: `ingest`
 * (a child process) must keep running, reconnect, and store every update exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describePg } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { logLines, replayRun, runCli, startRig, type Rig } from './ingest-child.js';
import { expectCompleteSpans, seqSpans } from './spans.js';

const ACCOUNTS = 2;
/** The catalog postgres.js reads for array types; no statement of ours names it. */
const TYPES_QUERY = Buffer.from('pg_catalog.pg_type');
const KILLS = 3;

describePg('fault: connections die while their session is being set up (array-types query)', () => {
  let rig: Rig;
  beforeAll(async () => {
    rig = await startRig();
  });
  afterAll(() => rig?.close());

  it('keeps running through reconnects killed at the array-types query and stores every update once', { timeout: 90_000 }, async () => {
    let armed = false;
    let killed = 0;
    rig.proxy.onClientData = (chunk, conn) => {
      if (!armed || killed >= KILLS || !chunk.includes(TYPES_QUERY)) return chunk;
      killed++;
      conn.client.resetAndDestroy();
      conn.server.resetAndDestroy();
      return Buffer.alloc(0);
    };
    const run = runCli('ingest', ['--broker=sim', '--rate=500', `--accounts=${ACCOUNTS}`, '--status-every=100ms'], rig.env());
    const crashed = () => `ingest exited ${run.child.exitCode}: ${run.stderr().slice(-500)}`;
    try {
      await waitFor(async () => (await rig.dbRows()) > 200, 'rows before the connections die', 40_000, 100);
      armed = true;
      // Every open connection dies now; the next KILLS sessions the pool opens die when they ask for the array types.
      rig.proxy.cut();
      rig.proxy.restore();
      await waitFor(() => run.child.exitCode !== null || killed >= KILLS, 'sessions killed at the array-types query', 60_000, 100);
      expect(run.child.exitCode, crashed()).toBeNull();
      const atKills = await rig.dbRows();
      await waitFor(async () => run.child.exitCode !== null || (await rig.dbRows()) > atKills + 500, 'rows stored after the reconnects', 60_000, 100);
      expect(run.child.exitCode, crashed()).toBeNull();
      run.child.kill('SIGTERM');
      expect(await run.exit).toBe(0);
    } finally {
      run.child.kill('SIGKILL');
    }
    const finished = logLines(run).find((l) => l.msg === 'ingest finished');
    expect(finished?.lostRows).toBe(0);
    // A stop while a writer is still backing off journals what it holds; the next start writes it.
    const again = replayRun(rig);
    expect(await again.exit).toBe(0);
    expect(await rig.journalRows()).toBe(0);
    expectCompleteSpans(await seqSpans((text, params) => rig.sql.unsafe(text, params as never[]) as never), ACCOUNTS * 5);
  });
});

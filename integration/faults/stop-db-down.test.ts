/**
 * `ingest` as a child process, its database through a proxy the test cuts:
 *  - `docker stop` with the database down: SIGTERM, then SIGKILL 10 s later (Docker's default).
 *    With writes failing the process journals at once, so the kill finds nothing only in memory:
 *    loss 0 (database ∪ journal hold every accepted row) and it exits by itself, code 0.
 *  - the same stop with the journal broken too: the rows that cannot be kept are counted and
 *    named in the summary ("rows LOST"), and the exit code is 3, not 0.
 *  - a corrupt journal at start-up (`null` and garbage lines, a row the database refuses, a folder,
 *    a FIFO and a dangling symlink named like segments, in the snapshot and trade journals): the
 *    start never crashes, every good row is written once, bad lines and entries are moved to
 *    quarantine/, the refused row is in dead-letter.jsonl with its reason.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describePg } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { logLines, replayRun, runCli, simSettled, startRig, type Rig } from './ingest-child.js';

/** Rows in the journal segments of a folder (none when it does not exist). */
async function journalRowsIn(dir: string): Promise<number> {
  let n = 0;
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (f.startsWith('seg-')) n += (await readFile(join(dir, f), 'utf8')).split('\n').filter(Boolean).length;
  }
  return n;
}

const COUNT = 3000;
const ACCOUNTS = 2;
const DOCKER_KILL_AFTER_MS = 10_000;

describePg('fault: stop with the database down (child process)', () => {
  let rig: Rig;
  beforeEach(async () => {
    rig = await startRig();
  });
  afterEach(() => rig?.close());

  it('SIGTERM then SIGKILL after 10 s (docker stop): exits by itself with everything journaled, loss 0', { timeout: 120_000 }, async () => {
    // Default SHUTDOWN_DRAIN_MS: what a container gets.
    const run = runCli('ingest', ['--broker=sim', '--rate=1000', `--count=${COUNT}`, `--accounts=${ACCOUNTS}`, '--status-every=100ms'], rig.env({ FLUSH_MAX_PENDING_ROWS: '1000' }));
    let outcome: 'exited' | 'killed' = 'exited';
    let termAt = 0;
    let exitMs = 0;
    try {
      await waitFor(async () => (await rig.dbRows()) > 200, 'rows before the outage', 40_000, 100);
      rig.proxy.cut();
      await waitFor(() => simSettled(run, COUNT), 'the sim to finish during the outage', 60_000, 100);
      run.child.kill('SIGTERM');
      termAt = Date.now();
      let timer: NodeJS.Timeout | undefined;
      outcome = await Promise.race([run.exit.then(() => 'exited' as const), new Promise<'killed'>((r) => (timer = setTimeout(() => r('killed'), DOCKER_KILL_AFTER_MS)))]);
      clearTimeout(timer);
      exitMs = Date.now() - termAt;
      if (outcome === 'killed') run.child.kill('SIGKILL');
    } finally {
      run.child.kill('SIGKILL');
    }
    expect(outcome).toBe('exited');
    expect(await run.exit).toBe(0);
    const lost = COUNT * ACCOUNTS - (await rig.storedKeys()).size;
    expect(lost).toBe(0);
    expect(logLines(run).find((l) => l.msg === 'ingest finished')).toMatchObject({ lostRows: 0 });
    console.log(`[stop-db-down] docker stop with the database down: exited ${exitMs} ms after SIGTERM, ${await rig.journalRows()} rows journaled, lost ${lost}`);
  });

  it('the journal broken too: the loss is counted, named in the summary, and the exit code is 3', { timeout: 120_000 }, async () => {
    const aside = `${rig.journalDir}-before-break`;
    const run = runCli('ingest', ['--broker=sim', '--rate=1000', `--count=${COUNT}`, `--accounts=${ACCOUNTS}`, '--status-every=100ms'], rig.env({ FLUSH_MAX_PENDING_ROWS: '1000' }));
    try {
      await waitFor(async () => (await rig.dbRows()) > 200, 'rows before the outage', 40_000, 100);
      // What a loaded machine spilled before the folder goes is moved aside by the test, not lost by the process: counted below.
      await rename(rig.journalDir, aside);
      await writeFile(rig.journalDir, 'not a folder'); // every journal append fails from now on
      rig.proxy.cut();
      await waitFor(() => simSettled(run, COUNT), 'the sim to finish during the outage', 60_000, 100);
      run.child.kill('SIGTERM');
      expect(await run.exit).toBe(3);
    } finally {
      run.child.kill('SIGKILL');
      await rm(rig.journalDir, { force: true });
      await mkdir(rig.journalDir, { recursive: true });
    }
    const movedAside = await journalRowsIn(aside);
    await rm(aside, { recursive: true, force: true });
    const notStored = COUNT * ACCOUNTS - (await rig.dbRows());
    const finished = logLines(run).find((l) => l.msg === 'ingest finished') as { lostRows: number; journalWriteErrors: number };
    expect(finished.journalWriteErrors).toBeGreaterThan(0);
    // Every row not stored (and not moved aside by the test) is reported lost (in-flight ones may count twice).
    expect(finished.lostRows).toBeGreaterThanOrEqual(notStored - movedAside);
    expect(notStored).toBeGreaterThan(0);
    expect(run.stderr()).toMatch(new RegExp(`JOURNAL WRITE FAILED \\d+ times .*; ${finished.lostRows} rows LOST`));
    console.log(`[stop-db-down] journal broken at stop: ${notStored} rows not stored (${movedAside} of them moved aside by the test), reported lost ${finished.lostRows}, exit 3`);
  });

  it('a corrupt journal never stops a start: good rows written once, bad lines and entries set aside, refused rows dead-lettered', { timeout: 60_000 }, async () => {
    const dir = rig.journalDir;
    const snap = (seq: number, extra: Record<string, unknown> = {}) => JSON.stringify({
      broker: 'sim', account: 'J-1', contractKey: 'SPY   261218C00500000', underlying: 'SPY', eventTs: Date.now() - 60_000 + seq, seq, receivedAt: Date.now(),
      quantity: 1, multiplier: 100, bid: 1, ask: 1.1, mark: 1.05, underlyingPrice: 500, iv: 0.2, delta: 0.5, gamma: 0.01, theta: -0.1, vega: 0.2, rho: null, ...extra,
    });
    const good = Array.from({ length: 50 }, (_, i) => snap(i + 1));
    await writeFile(join(dir, 'seg-000000000000001-1-000000.jsonl'), [good[0], 'null', ...good.slice(1, 25), '{"torn":', snap(999, { quantity: 'lots' }), ...good.slice(25), '\u0000garbage'].join('\n') + '\n');
    await mkdir(join(dir, 'seg-000000000000002-1-000000.jsonl'));
    execFileSync('mkfifo', [join(dir, 'seg-000000000000003-1-000000.jsonl')]);
    await symlink(join(dir, 'gone'), join(dir, 'seg-000000000000004-1-000000.jsonl'));
    await mkdir(join(dir, 'trades'));
    const trade = JSON.stringify({ broker: 'manual', account: 'J-1', tradeId: 'j-trade-1', contractKey: 'SPY   261218C00500000', side: 'sell', quantity: 1, price: 3, executedAt: Date.now(), source: 'api' });
    await writeFile(join(dir, 'trades', 'seg-000000000000001-1-000000.jsonl'), ['null', trade, trade].join('\n') + '\n');

    const again = replayRun(rig);
    expect(await again.exit).toBe(0);
    const [{ n }] = await rig.sql`SELECT count(*)::int AS n, count(DISTINCT seq)::int AS d FROM greek_snapshots WHERE account = 'J-1'`;
    expect(n).toBe(50);
    expect((await rig.sql`SELECT trade_id FROM trades`).map((r) => r.trade_id)).toEqual(['j-trade-1']);
    expect((await readdir(dir)).filter((f) => f.startsWith('seg-'))).toEqual([]);
    const aside = await readdir(join(dir, 'quarantine'));
    expect(aside.filter((f) => f.endsWith('.bad-lines'))).toHaveLength(1); // the snapshot segment's bad lines
    expect(aside.filter((f) => f.includes('.unreadable-'))).toHaveLength(3); // folder, FIFO, symlink: kept, not deleted
    const badLines = (await readFile(join(dir, 'quarantine', aside.find((f) => f.endsWith('.bad-lines'))!), 'utf8')).split('\n').filter(Boolean);
    expect(badLines).toEqual(['null', '{"torn":', '\u0000garbage']);
    const dead = (await readFile(join(dir, 'dead-letter.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ kind: 'snapshot', code: 'INVALID_ROW', row: { seq: 999 } });
    expect(again.stderr()).toMatch(/journal: \d+ bad lines and 3 unreadable segments moved to JOURNAL_DIR\/quarantine/);
    expect(again.stderr()).toMatch(/1 rows refused by the database for their content: kept with the reason in JOURNAL_DIR\/dead-letter\.jsonl/);
  });
});

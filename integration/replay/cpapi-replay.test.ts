/**
 * Record → replay, end to end: a live ingest against the Client Portal simulator with faults
 * (duplicate and reordered frames, partial updates, a dropped socket, a competing login) is
 * recorded with the actor's wire tap; the recording is replayed through the same decode path and
 * processor into a fresh database; both databases hold the same rows, key and values.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { readRecordings } from '../../src/brokers/kit/replay.js';
import { startCpapiSimulator, type CpapiSimulator } from '../../src/brokers/ibkr/sim/cpapi/index.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { replaySession } from '../../src/cli/replay.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { databaseRows } from './rows.js';

describePg('record → replay (Client Portal simulator with faults)', () => {
  let live: TestStorage;
  let replayed: TestStorage;
  let sim: CpapiSimulator;
  let dir: string;
  const saved = { ...process.env };
  beforeAll(async () => {
    [live, replayed] = await Promise.all([openTestStorage('postgres'), openTestStorage('postgres')]);
    sim = await startCpapiSimulator({ plainHttp: true, hbMs: 300, rateMs: 40, duplicates: 0.2, outOfOrder: 0.2, partial: 0.5, seed: 7 });
    dir = await mkdtemp(join(tmpdir(), 'riskwire-record-'));
    if (process.env.KEEP_RECORDING) console.log(dir);
    Object.assign(process.env, { IBKR_TRANSPORT: 'cpapi', IBKR_GATEWAY_URL: sim.url, IBKR_HEARTBEAT_MS: '500' });
    delete process.env.IBKR_ACCOUNTS;
  });
  afterAll(async () => {
    process.env = saved;
    await sim?.close();
    await Promise.all([live?.close(), replayed?.close()]);
    if (dir && !process.env.KEEP_RECORDING) await rm(dir, { recursive: true, force: true });
  });

  it('replays the recorded session into a fresh database with identical rows', { timeout: 120_000 }, async () => {
    const pipeline = new Pipeline({ storage: live.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal(), supervisor: { pingIntervalMs: 250 } });
    await pipeline.startActor({ id: 'ibkr', broker: 'ibkr', recordDir: dir });
    await waitFor(() => sim.greeksSent().length >= 60, 'first updates', 40_000);
    sim.dropConnections();
    await waitFor(() => sim.stats.connections >= 2 && sim.greeksSent().length >= 140, 'updates after the reconnect', 40_000);
    sim.competeSession();
    await waitFor(() => sim.stats.ssodhInits >= 1 && sim.greeksSent().length >= 220, 'updates after the competing login', 40_000);
    await pipeline.stop();
    const liveRows = await databaseRows(live);
    expect(liveRows.snapshots.length).toBeGreaterThan(100);

    // The recording: NDJSON, one file per actor and day, no session cookie in it.
    const files = await readdir(dir);
    expect(files).toEqual([expect.stringMatching(/^ibkr-\d{4}-\d{2}-\d{2}\.ndjson$/)]);
    const text = await readFile(join(dir, files[0]!), 'utf8');
    expect(text).toContain('\\"session\\":\\"***\\"');
    expect(text).not.toMatch(/\\"session\\":\\"[^*]/);
    const sessions = readRecordings(dir);
    expect(sessions).toHaveLength(1);
    expect(new Set(sessions[0]!.records.filter((r) => r.ch === 'ws').map((r) => r.conn)).size).toBeGreaterThanOrEqual(3);

    const replay = new Pipeline({ storage: replayed.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    // Every record was asked for by the replayed stream: it took the path the live one took.
    for (const s of sessions) expect((await replaySession(s, replay, testLogger)).early).toBe(0);
    await replay.stop();
    const replayedRows = await databaseRows(replayed);

    const firstDiff = (a: string[], b: string[]) => { const i = a.findIndex((x, k) => x !== b[k]); return i < 0 ? null : [i, a[i], b[i]]; };
    if (process.env.DEBUG_REPLAY) console.log('positions', firstDiff(replayedRows.positions, liveRows.positions), 'snapshots', firstDiff(replayedRows.snapshots, liveRows.snapshots));
    expect(replayedRows.positions).toEqual(liveRows.positions);
    expect(replayedRows.snapshots.length).toBe(liveRows.snapshots.length);
    expect(replayedRows.snapshots).toEqual(liveRows.snapshots);
  });
});

/**
 * Record → replay over the TWS transport: a live ingest against the TWS simulator with duplicate
 * and reordered ticks and a dropped connection, recorded at the IBApi event level, replayed
 * into a fresh database: the same rows, key and values.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { readRecordings } from '../../src/brokers/kit/replay.js';
import { startTwsSimulator, type TwsSimulator } from '../../src/brokers/ibkr/sim/tws/index.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { replaySession } from '../../src/cli/replay.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { databaseRows } from './rows.js';

describePg('record → replay (TWS simulator with faults)', () => {
  let live: TestStorage;
  let replayed: TestStorage;
  let sim: TwsSimulator;
  let dir: string;
  const saved = { ...process.env };
  beforeAll(async () => {
    [live, replayed] = await Promise.all([openTestStorage('postgres'), openTestStorage('postgres')]);
    sim = await startTwsSimulator({ intervalMs: 40, knobs: { duplicates: 0.2, outOfOrder: 0.2 } });
    dir = await mkdtemp(join(tmpdir(), 'riskwire-record-'));
    Object.assign(process.env, { IBKR_TRANSPORT: 'tws', IBKR_TWS_PORT: String(sim.port), IBKR_CLIENT_ID: '17', IBKR_HEARTBEAT_MS: '500' });
    delete process.env.IBKR_ACCOUNTS;
  });
  afterAll(async () => {
    process.env = saved;
    await sim?.close();
    await Promise.all([live?.close(), replayed?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('replays the recorded session into a fresh database with identical rows', { timeout: 120_000 }, async () => {
    const pipeline = new Pipeline({ storage: live.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal(), supervisor: { pingIntervalMs: 250 } });
    await pipeline.startActor({ id: 'ibkr', broker: 'ibkr', recordDir: dir });
    const sent = () => [...sim.sentGreeks().values()].flat().length;
    await waitFor(() => sent() >= 60, 'first updates', 40_000);
    sim.dropConnections();
    await waitFor(() => sim.stats().connections >= 2 && sent() >= 150, 'updates after the reconnect', 40_000);
    await pipeline.stop();
    const liveRows = await databaseRows(live);
    expect(liveRows.snapshots.length).toBeGreaterThan(100);

    const sessions = readRecordings(dir);
    expect(sessions).toHaveLength(1);
    expect(new Set(sessions[0]!.records.map((r) => r.conn)).size).toBeGreaterThanOrEqual(2);

    const replay = new Pipeline({ storage: replayed.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    // Every record was asked for by the replayed stream: it took the path the live one took.
    for (const s of sessions) expect((await replaySession(s, replay, testLogger)).early).toBe(0);
    await replay.stop();
    const replayedRows = await databaseRows(replayed);
    const firstDiff = (a: string[], b: string[]) => { const i = a.findIndex((x, k) => x !== b[k]); return i < 0 ? null : [i, a[i], b[i]]; };
    if (process.env.DEBUG_REPLAY) console.log('positions', firstDiff(replayedRows.positions, liveRows.positions), 'snapshots', firstDiff(replayedRows.snapshots, liveRows.snapshots));
    expect(replayedRows.positions).toEqual(liveRows.positions);
    expect(replayedRows.snapshots).toEqual(liveRows.snapshots);
  });
});

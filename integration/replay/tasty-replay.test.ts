/**
 * Record → replay over the tasty transports: REST, the DXLink feed (duplicates, reordering, NaN
 * greeks, a server-side close that makes the client rebuild) and the account streamer (a pushed
 * fill, a pushed position change). Replayed into a fresh database: the same rows, key and values.
 */
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { readRecordings } from '../../src/brokers/kit/replay.js';
import { startTastySimulator, type TastySimulator } from '../../src/brokers/tasty/sim/index.js';
import { simContractKey } from '../../src/brokers/simbook.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { replaySession } from '../../src/cli/replay.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { databaseRows } from './rows.js';

describePg('record → replay (Tastytrade simulator with faults)', () => {
  let live: TestStorage;
  let replayed: TestStorage;
  let sim: TastySimulator;
  let dir: string;
  const saved = { ...process.env };
  beforeAll(async () => {
    [live, replayed] = await Promise.all([openTestStorage('postgres'), openTestStorage('postgres')]);
    sim = await startTastySimulator({ dxlink: { tickMs: 50, duplicateRate: 0.2, outOfOrderRate: 0.2, nanRate: 0.05 } });
    dir = await mkdtemp(join(tmpdir(), 'riskwire-record-'));
    Object.assign(process.env, sim.env);
    delete process.env.TASTY_ACCOUNTS;
  });
  afterAll(async () => {
    process.env = saved;
    await sim?.close();
    await Promise.all([live?.close(), replayed?.close()]);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('replays the recorded session into a fresh database with identical rows', { timeout: 120_000 }, async () => {
    const pipeline = new Pipeline({ storage: live.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal(), supervisor: { pingIntervalMs: 250 } });
    await pipeline.startActor({ id: 'tasty', broker: 'tasty', recordDir: dir });
    const sent = () => sim.sentGreeks().length;
    await waitFor(() => sent() >= 40 && (sim.accountStreamer?.subscribedAccounts().size ?? 0) > 0, 'first updates', 40_000);
    const account = sim.accounts[0]!;
    sim.pushFill(account, { symbol: simContractKey(sim.contracts[0]!), underlying: 'SPY', action: 'Buy to Open', quantity: 2, price: 3.5 });
    sim.dxlink.closeAll(1012, 'reconnection required');
    await waitFor(() => sent() >= 120, 'updates after the rebuild', 40_000);
    await pipeline.stop();
    const liveRows = await databaseRows(live);
    expect(liveRows.snapshots.length).toBeGreaterThan(60);
    expect(liveRows.trades).toHaveLength(1);

    // No OAuth or quote token reaches the disk.
    for (const f of await readdir(dir)) {
      const text = await readFile(join(dir, f), 'utf8');
      expect(text).not.toContain(sim.refreshToken);
      expect(text).not.toContain(sim.clientSecret);
      expect(text).not.toMatch(/sim-(access|quote)-\d+-/);
    }
    const sessions = readRecordings(dir);
    expect(sessions).toHaveLength(1);
    // The server-side close: the SDK reconnected (CONNECTED → CONNECTING) inside the recording.
    expect(sessions[0]!.records.some((r) => r.ch === 'dxlink' && r.key === 'state' && r.text === '["CONNECTING","CONNECTED"]')).toBe(true);

    const replay = new Pipeline({ storage: replayed.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    for (const s of sessions) expect((await replaySession(s, replay, testLogger)).early).toBe(0);
    await replay.stop();
    const replayedRows = await databaseRows(replayed);
    const firstDiff = (a: string[], b: string[]) => { const i = a.findIndex((x, k) => x !== b[k]); return i < 0 ? null : [i, a[i], b[i]]; };
    if (process.env.DEBUG_REPLAY) console.log('positions', firstDiff(replayedRows.positions, liveRows.positions), 'snapshots', firstDiff(replayedRows.snapshots, liveRows.snapshots), replayedRows.snapshots.length, liveRows.snapshots.length);
    expect(replayedRows.positions).toEqual(liveRows.positions);
    expect(replayedRows.trades).toEqual(liveRows.trades);
    expect(replayedRows.snapshots).toEqual(liveRows.snapshots);
  });
});

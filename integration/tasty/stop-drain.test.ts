import { afterAll, beforeAll, expect, it } from 'vitest';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { startTastySimulator, type TastySimulator } from '../../src/brokers/tasty/sim/index.js';
import { MemoryJournal } from '../../src/core/journal.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

// A checker that counts what its server wrote to the socket must find every one of those
// events stored, including the ones still on the wire when ingest stops.
describePg('stopping the tasty actor mid-stream', () => {
  let t: TestStorage;
  let sim: TastySimulator;
  const saved = { ...process.env };
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    sim = await startTastySimulator({ dxlink: { tickMs: 10 } }); // a busy feed: something is always in flight
    Object.assign(process.env, sim.env);
  });
  afterAll(async () => {
    process.env = saved;
    await sim?.close();
    await t?.close();
  });

  it('stores every Greeks event the server sent before the stream ended', { timeout: 60_000 }, async () => {
    const pipeline = new Pipeline({ storage: t.storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() });
    await pipeline.startActor({ id: 'tasty', broker: 'tasty' });
    await waitFor(() => pipeline.processor.stats().rowsProduced > 300, 'greeks to flow', 30_000);
    await pipeline.stop(); // no silencing of the simulator first

    const holders = new Map<string, number>();
    for (const account of sim.accounts) for (const h of sim.holdings(account)) holders.set(h.symbol, (holders.get(h.symbol) ?? 0) + 1);
    const expected = sim.sentGreeks().reduce((n, g) => n + (holders.get(g.contractKey) ?? 0), 0);
    const [r] = await t.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM greek_snapshots WHERE broker = 'tasty'`);
    expect(r.n).toBe(expected);
  });
});

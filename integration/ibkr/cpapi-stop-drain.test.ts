/**
 * A checker that counts what its gateway wrote to the socket must find every one of those
 * updates stored, including the ones still on the wire when ingest stops.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Processor } from '../../src/core/processor.js';
import { simContractKey } from '../../src/brokers/simbook.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { startRig, waitFor, type Rig } from './cpapi-helpers.js';

describePg('stopping the cpapi stream mid-stream', () => {
  let db: TestStorage;
  let rig: Rig | undefined;
  beforeEach(async () => {
    db = await openTestStorage('postgres');
  });
  afterEach(async () => {
    await rig?.sim.close();
    rig = undefined;
    await db.close();
  });

  it('unsubscribes, keeps reading briefly, and stores every update the gateway sent', { timeout: 60_000 }, async () => {
    const processor = new Processor({ storage: db.storage, log: testLogger, flush: { intervalMs: 50 } });
    rig = await startRig({ rateMs: 5 }, {}, {}, (e) => processor.ingest([e])); // a busy feed
    await waitFor(() => rig!.sim.greeksSent().length >= 200, '200 greeks updates sent');
    await rig.stream.stop(); // no silencing of the gateway first
    await processor.drain();

    const holders = new Map<string, number>();
    for (const h of rig.sim.book.holdings) {
      const key = simContractKey(rig.sim.book.contracts[h.index]);
      holders.set(key, (holders.get(key) ?? 0) + 1);
    }
    const expected = rig.sim.greeksSent().reduce((n, s) => n + (holders.get(s.contractKey) ?? 0), 0);
    const [r] = await db.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM greek_snapshots WHERE broker = 'ibkr'`);
    expect(r.n).toBe(expected);
  });
});

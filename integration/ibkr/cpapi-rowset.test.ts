/**
 * The exact row set through the whole pipeline: simulated gateway (https, ws) → cpapi stream →
 * processor → greek_snapshots, on PostgreSQL and PGlite. Every unique greeks update the
 * gateway sent × every account holding the contract is one row: none missing, none extra, no
 * duplicates, IV stored as a fraction, despite duplicated and reordered frames.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Processor } from '../../src/core/processor.js';
import { simContractKey } from '../../src/brokers/simbook.js';
import { describeBackends, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { greeksLine, startRig, waitFor, type Rig } from './cpapi-helpers.js';

describeBackends('ibkr cpapi exact row set', (backend) => {
  let db: TestStorage;
  let rig: Rig | undefined;
  beforeEach(async () => {
    db = await openTestStorage(backend);
  });
  afterEach(async () => {
    await rig?.stop();
    rig = undefined;
    await db.close();
  });

  it('stores each unique greeks update once per holding account', async () => {
    const processor = new Processor({ storage: db.storage, log: testLogger, flush: { intervalMs: 50 } });
    rig = await startRig({ duplicates: 0.3, outOfOrder: 0.15 }, {}, {}, (e) => processor.ingest([e]));
    await waitFor(() => rig!.sim.greeksSent().length >= 80, '80 unique greeks sent');
    rig.sim.knobs.silent = true;
    await new Promise((r) => setTimeout(r, 150));
    const sent = rig.sim.greeksSent();
    const seen = () => new Set(rig!.greeks().map(greeksLine));
    await waitFor(() => sent.every((s) => seen().has(greeksLine(s))), 'client received all sent greeks');
    await rig.stream.stop();
    await processor.drain();

    const { book } = rig.sim;
    const holders = new Map<string, Map<string, number>>();
    for (const h of book.holdings) {
      const key = simContractKey(book.contracts[h.index]);
      if (!holders.has(key)) holders.set(key, new Map());
      holders.get(key)!.set(h.account, h.quantity);
    }
    const expected: string[] = [];
    for (const s of sent) for (const [account, qty] of holders.get(s.contractKey) ?? []) expected.push(`${account}|${qty}|${greeksLine(s)}`);

    const rows = await db.storage.querySnapshots({ broker: 'ibkr', limit: 10_000 });
    const got = rows.map((r) => `${r.account}|${r.quantity}|${greeksLine(r)}`);
    expect(new Set(got).size).toBe(got.length); // no duplicate rows
    expect(got.sort()).toEqual(expected.sort());
    // The scenario exercised what it claims: duplicates dropped, the SPY 500 call in two accounts,
    // IV a fraction, short positions signed, no rho on this feed.
    expect(processor.stats().drops.duplicate).toBeGreaterThan(0);
    expect(new Set(rows.filter((r) => r.contractKey === simContractKey(book.contracts[0])).map((r) => r.account)).size).toBe(2);
    expect(rows.every((r) => r.iv !== null && r.iv > 0.05 && r.iv < 1.6 && r.rho === null)).toBe(true);
    expect(rows.some((r) => r.quantity < 0)).toBe(true);
    expect(rows.every((r) => r.bid !== null && r.ask !== null)).toBe(true);
  });
});

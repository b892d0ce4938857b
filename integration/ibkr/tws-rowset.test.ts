/**
 * The exact row set through the pipeline: TWS simulator → @stoqey/ib → tws stream → processor →
 * greek_snapshots, on PostgreSQL and PGlite. Every unique greeks update sent × every account
 * holding the contract is one row; wire duplicates and reordering change nothing; IV a fraction.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Processor } from '../../src/core/processor.js';
import { describeBackends, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { sentSet, startTwsRig, waitFor, emittedByKey, type TwsRig } from './tws-helpers.js';

describeBackends('ibkr tws exact row set', (backend) => {
  let db: TestStorage;
  let rig: TwsRig | undefined;
  beforeEach(async () => {
    db = await openTestStorage(backend);
  });
  afterEach(async () => {
    await rig?.close();
    rig = undefined;
    await db.close();
  });

  it('stores each unique greeks update once per holding account', async () => {
    const processor = new Processor({ storage: db.storage, log: testLogger, flush: { intervalMs: 50 } });
    rig = await startTwsRig({ sim: { knobs: { duplicates: 0.3, outOfOrder: 0.2 } }, emit: (e) => processor.ingest([e]) });
    for (let i = 0; i < 20; i++) rig.sim.tick();
    const sent = sentSet(rig.sim);
    await waitFor(() => new Set(emittedByKey(rig!.greeks()).values()).size >= sent.size, 'all sent greeks received');
    await rig.stream.stop();
    await processor.drain();

    const holders = new Map<string, [string, number][]>();
    for (const h of rig.sim.holdings) {
      if (h.contract.secType !== 'OPT') continue;
      holders.set(h.contract.localSymbol, [...(holders.get(h.contract.localSymbol) ?? []), [h.account, h.quantity]]);
    }
    const expected: string[] = [];
    for (const s of sent) {
      const key = s.split('|')[0];
      for (const [account, qty] of holders.get(key) ?? []) expected.push(`${account}|${qty}|${s}`);
    }
    const rows = await db.storage.querySnapshots({ broker: 'ibkr', limit: 10_000 });
    const got = rows.map((r) => `${r.account}|${r.quantity}|${[r.contractKey, r.iv, r.delta, r.gamma, r.vega, r.theta, r.mark, r.underlyingPrice].join('|')}`);
    expect(new Set(got).size).toBe(got.length);
    expect(got.sort()).toEqual(expected.sort());
    expect(processor.stats().drops.duplicate).toBeGreaterThan(0);
    const spyCall = rig.sim.contracts[0].contractKey;
    expect(new Set(rows.filter((r) => r.contractKey === spyCall).map((r) => r.account)).size).toBe(2);
    expect(rows.every((r) => r.iv !== null && r.iv > 0.05 && r.iv < 1.6 && r.rho === null)).toBe(true);
    expect(rows.some((r) => r.quantity < 0)).toBe(true);
  });
});

/**
 * The exact row set: every unique Greeks event the simulator sent × every account holding that
 * contract == the rows of greek_snapshots. No missing, extra or duplicate rows; NaN stored as
 * null; quantity signs from quantity-direction. Real SDKs, real sockets, real databases.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { Processor } from '../../src/core/processor.js';
import type { SnapshotRecord } from '../../src/db/types.js';
import { describeBackends, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { greeksKey, startHarness, waitFor, type Harness } from './harness.js';

describeBackends('tasty exact row set', (backend) => {
  let db: TestStorage;
  let h: Harness | undefined;
  beforeEach(async () => {
    db = await openTestStorage(backend);
  });
  afterEach(async () => {
    await h?.stop();
    h = undefined;
    await db.close();
  });

  it('stores each unique greeks event once per holding account, NaN as null, signed quantities', async () => {
    const processor = new Processor({ storage: db.storage, log: testLogger, flush: { intervalMs: 50 } });
    h = await startHarness({
      // Duplicates, late events, NaN strings, exponent strings and mixed-type frames all at once.
      sim: { dxlink: { tickMs: 20, duplicateRate: 0.3, outOfOrderRate: 0.2, nanRate: 0.1, numbersAsStrings: true, mixTypes: true, reorderFields: true } },
      emit: (e) => processor.ingest([e]),
    });
    await h.stream.start();
    await waitFor(() => h!.sim.sentGreeks().length >= 150, '150 unique greeks sent');
    // Stop the market, then wait until the client has seen everything that was sent.
    h.sim.dxKnobs.silent = true;
    const sent = h.sim.sentGreeks();
    const seen = () => new Set(h!.greeks().map((g) => greeksKey(g.contractKey, g.eventTs, g.seq)));
    await waitFor(() => sent.every((s) => seen().has(greeksKey(s.contractKey, s.time, s.sequence))), 'client received all sent greeks');
    await h.stream.stop();
    await processor.drain();

    const holders = new Map<string, Map<string, number>>();
    for (const account of h.sim.accounts) {
      for (const hd of h.sim.holdings(account)) {
        if (hd.instrumentType !== 'Equity Option') continue;
        if (!holders.has(hd.symbol)) holders.set(hd.symbol, new Map());
        holders.get(hd.symbol)!.set(account, hd.quantity);
      }
    }
    const expected = new Map<string, { quantity: number; delta: number | null; iv: number | null; gamma: number | null }>();
    for (const s of sent) {
      for (const [account, quantity] of holders.get(s.contractKey) ?? []) {
        expected.set(`${account}|${greeksKey(s.contractKey, s.time, s.sequence)}`, { quantity, delta: s.delta, iv: s.iv, gamma: s.gamma });
      }
    }
    const rows: SnapshotRecord[] = await db.storage.querySnapshots({ broker: 'tasty', limit: 10_000 });
    const got = new Map(rows.map((r) => [`${r.account}|${greeksKey(r.contractKey, r.eventTs, r.seq)}`, r]));
    expect(rows.length).toBe(got.size); // no duplicate rows
    expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [k, want] of expected) {
      const r = got.get(k)!;
      expect(r.quantity).toBe(want.quantity);
      if (want.delta === null) expect(r.delta).toBeNull();
      else expect(r.delta).toBeCloseTo(want.delta, 12);
      if (want.iv === null) expect(r.iv).toBeNull();
      else expect(r.iv).toBeCloseTo(want.iv, 12);
    }
    // The scenario really exercised what it claims to.
    expect(rows.some((r) => r.iv === null)).toBe(true);
    expect(rows.some((r) => r.quantity < 0)).toBe(true);
    expect(processor.stats().drops.duplicate).toBeGreaterThan(0);
  });
});

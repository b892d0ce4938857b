import { afterAll, beforeAll, expect, it } from 'vitest';
import type { GreekSnapshot } from '../../src/core/types.js';
import { describeBackends, openTestStorage, type TestStorage } from '../helpers/pg.js';

// The batch insert renders its column arrays as PostgreSQL array literals itself: any text a
// broker hands us (commas, quotes, backslashes, braces, the word NULL) must come back unchanged.
describeBackends('array-literal batch insert keeps awkward text intact', (backend) => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage(backend);
  });
  afterAll(() => t?.close());

  it('round-trips accounts and symbols with characters an array literal treats specially', async () => {
    const accounts = ['A,1', 'say "hi"', 'back\\slash', '{braced}', 'NULL', 'null', ' spaced ', 'ünïcode'];
    const now = Date.now();
    const rows: GreekSnapshot[] = accounts.map((account, i) => ({
      broker: 'sim', account, contractKey: 'SPY   261218C00500000', underlying: 'SPY', eventTs: now, seq: i, receivedAt: now,
      quantity: -1.5, multiplier: 100, bid: null, ask: 1e21, mark: -0.000001, underlyingPrice: 5e-324, iv: 0.2, delta: NaN, gamma: null, theta: -0.1, vega: 0.2, rho: 0.01,
    }));
    expect(await t.storage.writeSnapshots(rows)).toEqual({ inserted: accounts.length, duplicates: 0 });
    const stored = await t.storage.querySnapshots({ broker: 'sim', limit: 100 });
    expect(stored.map((r) => r.account).sort()).toEqual([...accounts].sort());
    const first = stored.find((r) => r.account === 'NULL')!;
    expect(first).toMatchObject({ quantity: -1.5, bid: null, ask: 1e21, mark: -0.000001, delta: null });
  });
});

/** Position sets never go back in time: a replayed older set changes nothing, even after a newer set closed everything. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Position } from '../../src/core/types.js';
import { describeBackends, openTestStorage, type TestStorage } from '../helpers/pg.js';

const pos = (contractKey: string, quantity: number): Position => ({
  broker: 'tasty', account: 'A1', contractKey, underlying: 'SPY', quantity, multiplier: 100, avgPrice: 1, assetClass: 'option',
});
const K1 = 'SPY   261218C00500000';
const K2 = 'SPY   261218P00450000';

describeBackends('position sets (journal replay safety)', (backend) => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage(backend);
  });
  afterAll(() => t?.close());

  it('an older set replayed after a newer one, and after an empty one, changes nothing', async () => {
    const s = t.storage;
    const book = async () => Object.fromEntries((await s.listPositions({ account: 'A1' })).map((p) => [p.contractKey, p.quantity]));
    await s.replacePositions('tasty', 'A1', [pos(K1, 10), pos(K2, -5)], 1000);
    await s.replacePositions('tasty', 'A1', [pos(K1, 10), pos(K2, 9)], 2000);
    await s.replacePositions('tasty', 'A1', [pos(K1, 10), pos(K2, -5)], 1000); // the journal's stale copy
    expect(await book()).toEqual({ [K1]: 10, [K2]: 9 });
    await s.replacePositions('tasty', 'A1', [], 3000); // everything closed: no positions row left to compare with
    await s.replacePositions('tasty', 'A1', [pos(K1, 10), pos(K2, 9)], 2000);
    expect(await book()).toEqual({});
    await s.replacePositions('tasty', 'A1', [pos(K1, 1)], 3000); // the same time again is applied (idempotent replay)
    expect(await book()).toEqual({ [K1]: 1 });
  });
});

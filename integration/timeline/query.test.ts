import { afterAll, beforeAll, expect, it } from 'vitest';
import { riskTimeline, type TimelineQuery, type TimelineRow } from '../../src/db/timeline.js';
import { describeBackends, openTestStorage, type TestStorage } from '../helpers/pg.js';
import { FIXTURE, T0 } from './fixture.js';

const s = (sec: number) => T0 + sec * 1000;
const base: TimelineQuery = { from: s(0), to: s(240), bucketMs: 60_000, staleMs: 180_000 };

/** [asOf (s after T0), underlying, account, positions, brokers, delta, gamma, theta, vega, dollarDelta] */
type Expected = [number, string, string | null, number, number, number, number, number, number, number | null];

function expectRows(rows: TimelineRow[], expected: Expected[]): void {
  expect(rows.map((r) => [(r.asOf - T0) / 1000, r.underlying, r.account, r.positions, r.brokers])).toEqual(expected.map((e) => e.slice(0, 5)));
  rows.forEach((r, i) => {
    const [, , , , , delta, gamma, theta, vega, dollar] = expected[i];
    expect(r.delta).toBeCloseTo(delta, 9);
    expect(r.gamma).toBeCloseTo(gamma, 9);
    expect(r.theta).toBeCloseTo(theta, 9);
    expect(r.vega).toBeCloseTo(vega, 9);
    if (dollar === null) expect(r.dollarDelta).toBeNull();
    else expect(r.dollarDelta).toBeCloseTo(dollar, 6);
  });
}

describeBackends('risk timeline on a hand-made book', (backend) => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage(backend);
    await t.storage.ensurePartitions(T0);
    await t.storage.writeSnapshots(FIXTURE);
  });
  afterAll(() => t?.close());

  it('per account: carries quiet positions forward, drops them once stale, sums greek x qty x multiplier', async () => {
    expectRows(await riskTimeline(t.storage, base), [
      // as of 60: A@10 and C@60 (exactly on the edge: counts); F from before the range
      [60, 'QQQ', 'ACC2', 1, 1, 120, 3, -9, 60, 48000],
      [60, 'SPY', 'ACC1', 2, 1, 80, 5.5, -24, 70, 39980],
      [60, 'SPY', 'U1', 1, 1, 30, -1, 5, -20, 15000],
      // as of 120: F is exactly 180 s old → stale; A's seq 1 at 70 wins over seq 0; D has no underlying price
      [120, 'QQQ', 'U1', 1, 1, 50, 1, -5, 25, null],
      [120, 'SPY', 'ACC1', 2, 1, 100, 7.5, -44, 90, 50220],
      [120, 'SPY', 'U1', 1, 1, 30, -1, 5, -20, 15000],
      // as of 180: nothing new, everything carried forward
      [180, 'QQQ', 'U1', 1, 1, 50, 1, -5, 25, null],
      [180, 'SPY', 'ACC1', 2, 1, 100, 7.5, -44, 90, 50220],
      [180, 'SPY', 'U1', 1, 1, 30, -1, 5, -20, 15000],
      // as of 240: C (180 s old) and B (210 s old) are stale; A's update at 300 is after the range
      [240, 'QQQ', 'U1', 1, 1, 50, 1, -5, 25, null],
      [240, 'SPY', 'ACC1', 1, 1, 120, 6, -40, 80, 60240],
    ]);
  });

  it('across accounts: sums the two brokers per underlying and counts both', async () => {
    const rows = await riskTimeline(t.storage, { ...base, to: s(120), allAccounts: true });
    expectRows(rows, [
      [60, 'QQQ', null, 1, 1, 120, 3, -9, 60, 48000],
      [60, 'SPY', null, 3, 2, 110, 4.5, -19, 50, 54980],
      [120, 'QQQ', null, 1, 1, 50, 1, -5, 25, null],
      [120, 'SPY', null, 3, 2, 130, 6.5, -39, 70, 65220],
    ]);
  });

  it('with the default 15 minute bound nothing in the fixture goes stale; dollar delta covers priced positions only', async () => {
    const rows = await riskTimeline(t.storage, { ...base, from: s(180), staleMs: 15 * 60_000, allAccounts: true });
    expectRows(rows, [
      [240, 'QQQ', null, 2, 2, 170, 4, -14, 85, 48000],
      [240, 'SPY', null, 3, 2, 130, 6.5, -39, 70, 65220],
    ]);
  });

  it('aligns the range to whole buckets and samples a partial last bucket at "to"', async () => {
    const rows = await riskTimeline(t.storage, { ...base, from: s(15), to: s(150), underlyings: ['SPY'], accounts: ['ACC1'] });
    expect(rows.map((r) => [(r.bucketStart - T0) / 1000, (r.bucketEnd - T0) / 1000, (r.asOf - T0) / 1000])).toEqual([
      [0, 60, 60],
      [60, 120, 120],
      [120, 180, 150],
    ]);
  });

  it('filters by broker and underlying inside the query', async () => {
    expectRows(await riskTimeline(t.storage, { ...base, to: s(120), brokers: ['ibkr'], underlyings: ['QQQ'] }), [
      [120, 'QQQ', 'U1', 1, 1, 50, 1, -5, 25, null],
    ]);
  });

  it('returns no rows for a range with nothing fresh', async () => {
    expect(await riskTimeline(t.storage, { ...base, from: s(3600), to: s(3720) })).toEqual([]);
  });
});

/**
 * The history rollup (src/db/rollup.ts) gives the timeline the same numbers as the raw rows,
 * on a small irregular book: minute and hour grains, bucket multiples, ranges whose end is not
 * on a grain, filters, all-accounts, a stale bound shorter than a grain, rows written after the
 * rollup ran, retention and purge.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { GreekSnapshot } from '../../src/core/types.js';
import { purgeBroker } from '../../src/db/purge.js';
import { riskTimeline, type TimelineQuery, type TimelineRow } from '../../src/db/timeline.js';
import { describeBackends, openTestStorage, type TestStorage } from '../helpers/pg.js';
import { FIXTURE, T0 } from './fixture.js';

const H = 3_600_000;
const DAY0 = Date.UTC(2025, 0, 6); // a Monday; the book spans midnight into Tuesday

/** A deterministic irregular book: 2 brokers, 3 accounts, 6 contracts, updates every 7-97 s, some on exact minute/hour edges, seq ties. */
function book(from: number, to: number, seed = 7): GreekSnapshot[] {
  let x = seed;
  const rnd = () => ((x = (x * 48271) % 2147483647) / 2147483647);
  const contracts = [
    ['tasty', 'A1', 'SPY   260116C00600000', 'SPY', 2], ['tasty', 'A1', 'SPY   260116P00550000', 'SPY', -1],
    ['tasty', 'A2', 'QQQ   260116C00500000', 'QQQ', 3], ['ibkr', 'U1', 'SPY   260116C00600000', 'SPY', 1],
    ['ibkr', 'U1', 'IWM   260116P00200000', 'IWM', -4], ['ibkr', 'U2', 'QQQ   260116P00450000', 'QQQ', 1],
  ] as const;
  const out: GreekSnapshot[] = [];
  for (const [broker, account, contractKey, underlying, quantity] of contracts) {
    let t = from + Math.floor(rnd() * 60_000);
    let seq = 0;
    while (t < to) {
      const edge = rnd() < 0.1 ? Math.ceil(t / 60_000) * 60_000 : t; // exactly on a minute edge now and then
      const g = rnd();
      out.push({
        broker, account, contractKey, underlying, eventTs: edge, seq: seq++, receivedAt: edge + 3, quantity, multiplier: 100,
        bid: rnd() < 0.2 ? null : 1 + g, ask: rnd() < 0.2 ? null : 1.1 + g, mark: rnd() < 0.5 ? null : 1.05 + g,
        underlyingPrice: rnd() < 0.05 ? null : 500 + g * 10, iv: 0.2, delta: g - 0.5, gamma: g / 50, theta: -g, vega: g / 3, rho: 0.01,
      });
      if (rnd() < 0.1) out.push({ ...out[out.length - 1], seq: seq++, delta: -g }); // same instant, higher seq wins
      t = edge + 7_000 + Math.floor(rnd() * 90_000);
    }
  }
  return out;
}

function same(a: TimelineRow[], b: TimelineRow[]): void {
  expect(a.map((r) => [r.bucketStart, r.asOf, r.underlying, r.account, r.positions, r.brokers])).toEqual(b.map((r) => [r.bucketStart, r.asOf, r.underlying, r.account, r.positions, r.brokers]));
  a.forEach((r, i) => {
    for (const k of ['delta', 'gamma', 'theta', 'vega', 'dollarDelta', 'unrealizedPnl'] as const) {
      if (b[i][k] === null) expect(r[k], `${k} of row ${i}`).toBeNull();
      else expect(r[k], `${k} of row ${i}`).toBeCloseTo(b[i][k]!, 6);
    }
  });
}

const QUERIES: Array<[string, TimelineQuery]> = [
  ['1 min over the book', { from: DAY0 + 22 * H, to: DAY0 + 27 * H, bucketMs: 60_000, staleMs: 15 * 60_000 }],
  ['1 min, end not on a minute, short stale bound', { from: DAY0 + 23 * H + 30_000, to: DAY0 + 24 * H + 17_123, bucketMs: 60_000, staleMs: 45_000 }],
  ['5 min, per account filter', { from: DAY0 + 22 * H, to: DAY0 + 25 * H, bucketMs: 300_000, staleMs: 15 * 60_000, accounts: ['A1', 'U1'] }],
  ['1 h over midnight, end mid-hour', { from: DAY0 + 21 * H, to: DAY0 + 25 * H + 1_234_567, bucketMs: H, staleMs: 2 * H }],
  ['2 h, all accounts, one broker, two underlyings', { from: DAY0 + 20 * H, to: DAY0 + 28 * H, bucketMs: 2 * H, staleMs: 3 * H, allAccounts: true, brokers: ['ibkr'], underlyings: ['SPY', 'IWM'] }],
  ['90 s (not a grain: raw rows)', { from: DAY0 + 23 * H, to: DAY0 + 24 * H, bucketMs: 90_000, staleMs: 10 * 60_000 }],
  ['1 h with edges at :30 (--tz +05:30: the minute grain, not the hour)', { from: DAY0 + 21 * H, to: DAY0 + 26 * H, bucketMs: H, staleMs: 2 * H, alignOffsetMs: 5.5 * H }],
];

describeBackends('timeline from the rollup = timeline from the raw rows', (backend) => {
  let t: TestStorage;
  const rows = [...book(DAY0 + 22 * H, DAY0 + 26 * H), ...FIXTURE];
  beforeAll(async () => {
    t = await openTestStorage(backend);
    await t.storage.ensurePartitions(DAY0);
    await t.storage.ensurePartitions(T0);
    await t.storage.writeSnapshots(rows);
    await t.storage.query(`INSERT INTO positions (broker, account, contract_key, underlying, quantity, multiplier, avg_price, updated_at)
      VALUES ('tasty', 'A1', 'SPY   260116C00600000', 'SPY', 2, 100, 1.2, now()), ('ibkr', 'U1', 'IWM   260116P00200000', 'IWM', -4, 100, 0.9, now())`);
  });
  afterAll(() => t?.close());

  const compareAll = async () => {
    for (const [, q] of QUERIES) same(await riskTimeline(t.storage, q), await riskTimeline(t.storage, { ...q, rollup: false }));
  };

  it('is built: newest snapshot per position per minute and per hour', async () => {
    const run = await t.storage.rollup!();
    expect(run.ran).toBe(true);
    const [m] = await t.storage.query<{ n: number; k: number }>(`SELECT count(*)::int AS n, count(DISTINCT (broker, account, contract_key, ceil(extract(epoch FROM event_ts) / 60)))::int AS k FROM greek_snapshots`);
    const [r] = await t.storage.query<{ n: number }>('SELECT count(*)::int AS n FROM greek_rollup WHERE grain_s = 60');
    expect(r.n).toBe(m.k);
    expect(r.n).toBeLessThan(m.n);
    // the hour rows are the newest of their minute rows
    const [bad] = await t.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM greek_rollup h WHERE h.grain_s = 3600 AND (h.event_ts, h.seq) <> (
      SELECT m.event_ts, m.seq FROM greek_rollup m WHERE m.grain_s = 60 AND (m.broker, m.account, m.contract_key) = (h.broker, h.account, h.contract_key)
         AND m.bucket_end > h.bucket_end - interval '1 hour' AND m.bucket_end <= h.bucket_end ORDER BY m.event_ts DESC, m.seq DESC LIMIT 1)`);
    expect(bad.n).toBe(0);
  });

  it('gives the same rows when the timeline reads only the rollup below the watermark', async () => {
    // Move the watermark an hour ahead: every raw row counts as rolled up, so only greek_rollup
    // serves the whole grains (a row missing from it would change the numbers).
    await t.storage.query(`UPDATE greek_rollup_state SET watermark = clock_timestamp() + interval '1 hour'`);
    await compareAll();
    const [n] = await t.storage.query<{ n: number }>('SELECT count(*)::int AS n FROM greek_rollup');
    expect(n.n).toBeGreaterThan(0);
  });

  // The next two on PostgreSQL only (the rollup SQL is the same on PGlite; the two above cover it there): test time.
  it.skipIf(backend === 'pglite')('gives the same rows with snapshots the rollup has not seen yet, and after the next run', async () => {
    await t.storage.query(`UPDATE greek_rollup_state SET watermark = clock_timestamp()`);
    const late = book(DAY0 + 23 * H, DAY0 + 24 * H, 99).map((r) => ({ ...r, seq: r.seq + 100_000, delta: (r.delta ?? 0) + 1 }));
    await t.storage.writeSnapshots(late);
    await compareAll();
    await t.storage.rollup!();
    await compareAll();
  });

  it.skipIf(backend === 'pglite')('retention and purge take the rollup rows with them', async () => {
    await t.storage.dropSnapshotsBefore(DAY0 + 24 * H + 1);
    const [left] = await t.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM greek_rollup WHERE event_ts < 'epoch'::timestamptz + $1::float8 * interval '1 millisecond'`, [DAY0 + 24 * H]);
    expect(left.n).toBe(0);
    await t.storage.query(`UPDATE greek_rollup_state SET watermark = clock_timestamp() + interval '1 hour'`);
    await compareAll();
    await purgeBroker(t.storage, 'ibkr');
    const [ib] = await t.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM greek_rollup WHERE broker = 'ibkr'`);
    expect(ib.n).toBe(0);
    await compareAll();
  });
});

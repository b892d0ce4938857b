/**
 * The history generator (src/bench/history.ts) on a small volume, both ways (server-side
 * generate_series and CSV over COPY), and the query plans of the timeline on it: a 1-minute day
 * reads greek_rollup (grain 60) and only the day's partitions, 30 days at 1 hour read the hour
 * grain, and both give the raw rows' numbers.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { generateHistory, historyBook, tradingSessions } from '../../src/bench/history.js';
import { readRollupWatermark } from '../../src/db/rollup.js';
import { buildTimelineQuery, riskTimeline, type TimelineQuery } from '../../src/db/timeline.js';
import { loadTimelineDays } from '../../src/risk/timelineWeights.js';
import { describePg, openTestStorage, type TestStorage } from '../helpers/pg.js';

const DAY = 86_400_000;
const END = Date.UTC(2026, 0, 8); // a Thursday: sessions Mon 5, Tue 6, Wed 7 January

describePg('history generator and query plans on a small volume', () => {
  let t: TestStorage;
  let firstRun: Awaited<ReturnType<NonNullable<TestStorage['storage']['rollup']>>>;
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    await generateHistory(t.url!, { rows: 6000, contracts: 20, accounts: 2, days: 3, endMs: END, method: 'sql', broker: 'hist' });
    await generateHistory(t.url!, { rows: 6000, contracts: 20, accounts: 2, days: 3, endMs: END, method: 'copy', broker: 'histcopy' });
    firstRun = await t.storage.rollup!();
  });
  afterAll(() => t?.close());

  it('the first build writes each rollup row linked: the relink only changes the last row of a position per day (D99)', async () => {
    // 2 brokers × 40 positions, 3 sessions: each day's batch links its own rows; only the row
    // before the next day's batch gets its next_end afterwards (before D99: every row, 12,000+).
    const positions = 2 * historyBook(20, 2).length;
    expect(firstRun.rows[60]).toBeGreaterThan(5000);
    expect(firstRun.relinked[60]).toBeGreaterThan(0);
    expect(firstRun.relinked[60]).toBeLessThanOrEqual(positions * 2);
    expect(firstRun.relinked[3600]).toBeLessThanOrEqual(positions * 3);
    const [unlinked] = await t.storage.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM greek_rollup r WHERE next_end IS NULL
          AND EXISTS (SELECT 1 FROM greek_rollup q WHERE q.grain_s = r.grain_s AND q.broker = r.broker AND q.account = r.account
                         AND q.contract_key = r.contract_key AND q.bucket_end > r.bucket_end)`);
    expect(unlinked.n).toBe(0);
  });

  it('sessions are the weekdays before the end, oldest first', () => {
    expect(tradingSessions(Date.UTC(2026, 0, 6), 3).map((s) => new Date(s).toISOString())).toEqual([
      '2026-01-01T13:30:00.000Z', '2026-01-02T13:30:00.000Z', '2026-01-05T13:30:00.000Z', // Sat 3 and Sun 4 skipped
    ]);
  });

  it('generates the asked rows, evenly over contracts and sessions, with positions, both ways', async () => {
    for (const broker of ['hist', 'histcopy']) {
      const per = await t.storage.query<{ contract_key: string; n: number; days: number; lo: string; hi: string }>(
        `SELECT contract_key, count(*)::int AS n, count(DISTINCT event_ts::date)::int AS days,
                min(event_ts AT TIME ZONE 'UTC')::text AS lo, max(event_ts AT TIME ZONE 'UTC')::text AS hi
           FROM greek_snapshots WHERE broker = $1 GROUP BY 1`, [broker]);
      expect(per).toHaveLength(20);
      expect(per.reduce((n, r) => n + r.n, 0)).toBe(6000);
      for (const r of per) {
        expect(r.n).toBe(300);
        expect(r.days).toBe(3);
        expect(r.lo >= '2026-01-05 13:30:00').toBe(true);
        expect(r.hi < '2026-01-07 20:00:00').toBe(true);
      }
      const [pos] = await t.storage.query<{ n: number }>('SELECT count(*)::int AS n FROM positions WHERE broker = $1', [broker]);
      expect(pos.n).toBe(historyBook(20, 2).length);
    }
  });

  const explain = async (q: TimelineQuery) => {
    const { text, params } = buildTimelineQuery({ ...q, rollupWatermark: await readRollupWatermark(t.storage) });
    return (await t.storage.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params)).map((r) => r['QUERY PLAN']).join('\n');
  };

  it('a 1-minute day reads the minute rollup and only that day\'s partitions (and the day before, for the stale bound)', async () => {
    const q: TimelineQuery = { from: END - DAY, to: END, bucketMs: 60_000, staleMs: 15 * 60_000 }; // Wednesday 7
    const plan = await explain(q);
    expect(plan).toMatch(/greek_rollup/);
    const parts = [...new Set(plan.match(/greek_snapshots_p\d{8}/g) ?? [])].sort();
    expect(parts.length).toBeGreaterThan(0);
    expect(parts.every((p) => ['greek_snapshots_p20260106', 'greek_snapshots_p20260107', 'greek_snapshots_p20260108'].includes(p))).toBe(true);
    expect(plan).not.toMatch(/greek_snapshots_p20260105/); // Monday's rows exist and are pruned
    // pruned while planning (immutable to_timestamp bounds, D99), not at executor start-up
    expect(plan).not.toMatch(/Subplans Removed/);
    const [mon] = await t.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM greek_snapshots_p20260105`);
    expect(mon.n).toBeGreaterThan(0);
  });

  it('a 1-minute day is served from the rollup: index scans, no scan of the day\'s snapshots, no sort by position', async () => {
    await t.storage.query('ANALYZE');
    const q: TimelineQuery = { from: END - DAY, to: END, bucketMs: 60_000, staleMs: 15 * 60_000 };
    const plan = await explain(q);
    // the minute rows come through an index on greek_rollup (grain, bucket_end)
    expect(plan).toMatch(/Index (Only )?Scan .*on greek_rollup|Bitmap Index Scan on greek_rollup_grain_end/);
    expect(plan).not.toMatch(/Seq Scan on greek_rollup/);
    // the raw rows are read only through an index (not rolled up yet: persisted_at; after the cut: empty)
    expect(plan).not.toMatch(/Seq Scan on greek_snapshots_p2026010[67]/);
    const analyzed = (await t.storage.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, TIMING OFF) ${buildTimelineQuery({ ...q, rollupWatermark: await readRollupWatermark(t.storage) }).text}`,
      buildTimelineQuery({ ...q, rollupWatermark: await readRollupWatermark(t.storage) }).params)).map((r) => r['QUERY PLAN']).join('\n');
    // every position took the fast path: the newest-per-bucket sort (slow path) got no row
    expect(analyzed).toMatch(/Unique .*\(actual rows=0 /);
  });

  it('day P&L: a day without a stored close finds the first mark after it on the primary key, never by scanning partitions', async () => {
    await t.storage.query('ANALYZE');
    const q: TimelineQuery = { from: END - 3 * DAY, to: END, bucketMs: 3_600_000, staleMs: 15 * 60_000 };
    const days = await loadTimelineDays(t.storage, q);
    expect(days.days.length).toBeGreaterThan(0);
    const { text, params } = buildTimelineQuery({ ...q, days, rollupWatermark: await readRollupWatermark(t.storage) });
    const plan = (await t.storage.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${text}`, params)).map((r) => r['QUERY PLAN']).join('\n');
    // by contract_key alone no index applies (a 30-day month scanned every later partition per
    // contract and day): the lookup goes per (broker, account) down greek_snapshots' primary key
    expect(plan).toMatch(/Index Scan using greek_snapshots_p\d{8}_pkey/);
    expect(plan).toMatch(/Index Cond: \(\(broker = ba\.broker\) AND \(account = ba\.account\) AND \(contract_key = \w+\.contract_key\)/); // k or ka: the planner may flatten the keys CTE
  });

  it('30 days at 1 hour read the hour grain; both give the raw rows\' numbers', async () => {
    const month: TimelineQuery = { from: END - 30 * DAY, to: END, bucketMs: 3_600_000, staleMs: 15 * 60_000 };
    const day: TimelineQuery = { from: END - DAY, to: END, bucketMs: 60_000, staleMs: 15 * 60_000 };
    const { params } = buildTimelineQuery({ ...month, rollupWatermark: 0 });
    expect(params).toContain(3600); // the grain parameter
    for (const q of [month, day]) {
      const a = await riskTimeline(t.storage, q);
      const b = await riskTimeline(t.storage, { ...q, rollup: false });
      expect(a.length).toBeGreaterThan(0);
      expect(a.map((r) => [r.asOf, r.underlying, r.account, r.positions, r.brokers])).toEqual(b.map((r) => [r.asOf, r.underlying, r.account, r.positions, r.brokers]));
      a.forEach((r, i) => {
        expect(r.delta).toBeCloseTo(b[i].delta!, 6);
        expect(r.dollarDelta).toBeCloseTo(b[i].dollarDelta!, 4);
        expect(r.unrealizedPnl ?? 0).toBeCloseTo(b[i].unrealizedPnl ?? 0, 4);
      });
    }
  });
});

/**
 * Timeline: stock (and future) positions in delta / $delta / bwd, day P&L against the stored
 * closing mark per contract and day (else the first mark after that close), the benchmark's
 * price per bucket. A hand-computed book, then a generated one compared with a direct
 * recomputation (recompute.ts), which a rollup of the same numbers can be checked against too.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { GreekSnapshot, Position } from '../../src/core/types.js';
import { riskTimeline, type TimelineQuery, type TimelineRow } from '../../src/db/timeline.js';
import { loadTimelineDays, loadTimelineWeights, timelineSessions } from '../../src/risk/timelineWeights.js';
import type { BetaEntry } from '../../src/risk/types.js';
import { describeBackends, openTestStorage, type TestStorage } from '../helpers/pg.js';
import { recomputeTimeline } from './recompute.js';

// Tuesday 2025-01-07 10:00 New York: the previous close is Monday 2025-01-06 16:00 New York (21:00Z).
const T = Date.UTC(2025, 0, 7, 15, 0, 0);
const X = 'SPY   250321C00500000';
const Y = 'SPY   250321P00480000';
const Z = 'QQQ   250321C00400000';

function snap(broker: string, account: string, contractKey: string, underlying: string, qty: number, at: number, v: { delta: number; upx: number | null; mark: number | null; seq?: number; gamma?: number }): GreekSnapshot {
  return {
    broker, account, contractKey, underlying, eventTs: at, seq: v.seq ?? 0, receivedAt: at + 3, quantity: qty, multiplier: 100,
    bid: null, ask: null, mark: v.mark, underlyingPrice: v.upx, iv: 0.2, delta: v.delta, gamma: v.gamma ?? 0.01, theta: -0.05, vega: 0.2, rho: null,
  };
}
const pos = (broker: string, account: string, contractKey: string, underlying: string, quantity: number, avgPrice: number | null, assetClass: Position['assetClass'] = 'option', multiplier = 100): Position =>
  ({ broker, account, contractKey, underlying, quantity, multiplier, avgPrice, assetClass });

async function insertClosingMarks(t: TestStorage, marks: { contractKey: string; day: string; mark: number }[]): Promise<void> {
  for (const m of marks) {
    await t.storage.query(`INSERT INTO closing_marks (contract_key, day, mark, marked_at, source) VALUES ($1, $2::date, $3, now(), 'test')`, [m.contractKey, m.day, m.mark]);
  }
}

async function allClosingMarks(t: TestStorage) {
  const rows = await t.storage.query<{ contractKey: string; day: string; mark: number }>(`SELECT contract_key AS "contractKey", to_char(day, 'YYYY-MM-DD') AS day, mark FROM closing_marks`);
  return rows.map((r) => ({ ...r, mark: Number(r.mark) }));
}

const rulesOf = (betas: Record<string, number>) => ({ betas: new Map<string, BetaEntry>(Object.entries(betas).map(([k, b]) => [k, { beta: b, source: 'config' as const }])) });

describeBackends('timeline: stock positions, day P&L, benchmark price per bucket', (backend) => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage(backend);
    await t.storage.ensurePartitions(T);
  }, 60_000);
  afterAll(() => t?.close());

  it('hand-computed: a covered book (stock + call) and a short put, day P&L vs the stored close or the first mark of the day', async () => {
    await t.storage.writeSnapshots([
      snap('tasty', 'ACC1', X, 'SPY', 2, T + 10_000, { delta: 0.5, upx: 505, mark: 8 }),
      snap('ibkr', 'U1', Y, 'SPY', -1, T - 3_600_000, { delta: -0.25, upx: 503, mark: 2.4 }), // first mark after Monday's close
      snap('ibkr', 'U1', Y, 'SPY', -1, T + 20_000, { delta: -0.2, upx: 506, mark: 2 }),
    ]);
    await t.storage.replacePositions('tasty', 'ACC1', [pos('tasty', 'ACC1', X, 'SPY', 2, 6), pos('tasty', 'ACC1', 'SPY', 'SPY', 100, 490, 'equity', 1), pos('tasty', 'ACC1', 'QQQ', 'QQQ', 50, 400, 'equity', 1)], T);
    await t.storage.replacePositions('ibkr', 'U1', [pos('ibkr', 'U1', Y, 'SPY', -1, 3)], T);
    await insertClosingMarks(t, [{ contractKey: X, day: '2025-01-06', mark: 7.5 }, { contractKey: 'SPY', day: '2025-01-06', mark: 500 }]);

    const q: TimelineQuery = { from: T, to: T + 60_000, bucketMs: 60_000, staleMs: 7_200_000 };
    const days = await loadTimelineDays(t.storage, q);
    expect(days).toEqual({ days: ['2025-01-06'], closes: [Date.UTC(2025, 0, 6, 21, 0, 0)], bucketDay: [1] });
    const weights = await loadTimelineWeights(t.storage, 'SPY', rulesOf({}));
    const rows = await riskTimeline(t.storage, { ...q, weights, days });
    // The stock's price in the bucket = SPY's newest fresh underlying price, Y at +20 s: 506. QQQ
    // has no fresh price (no QQQ option): that stock is not in the bucket.
    expect(rows.map((r) => [r.underlying, r.account, r.positions, r.brokers])).toEqual([['SPY', 'ACC1', 2, 1], ['SPY', 'U1', 1, 1]]);
    const [acc1, u1] = rows as [TimelineRow, TimelineRow];
    expect(acc1.delta).toBeCloseTo(0.5 * 200 + 100, 9); // 200 shares: the call's 100 + the stock's 100
    expect(acc1.dollarDelta).toBeCloseTo(0.5 * 200 * 505 + 100 * 506, 9); // 101,100
    expect(acc1.gamma).toBeCloseTo(0.01 * 200, 9); // the stock has no gamma
    expect(acc1.unrealizedPnl).toBeCloseTo((8 - 6) * 200 + (506 - 490) * 100, 9); // 2,000
    expect(acc1.dayPnl).toBeCloseTo((8 - 7.5) * 200 + (506 - 500) * 100, 9); // 700
    expect(acc1.benchmarkPrice).toBe(506);
    expect(acc1.bwd).toBeCloseTo(101_100 / 506, 9);
    expect(u1.delta).toBeCloseTo(-0.2 * -100, 9);
    expect(u1.unrealizedPnl).toBeCloseTo((2 - 3) * -100, 9); // a short that gained: +100
    expect(u1.dayPnl).toBeCloseTo((2 - 2.4) * -100, 9); // no close stored for Y: vs its first mark of the day, +40
    expect(u1.bwd).toBeCloseTo((20 * 506) / 506, 9);

    // Summed across accounts.
    const all = await riskTimeline(t.storage, { ...q, allAccounts: true, weights, days });
    expect(all).toHaveLength(1);
    expect(all[0]!.delta).toBeCloseTo(220, 9);
    expect(all[0]!.dayPnl).toBeCloseTo(740, 9);
    expect(all[0]!.positions).toBe(3);

    // And the direct recomputation agrees.
    const input = { snapshots: await snapshotsOf(t), positions: await positionsOf(t), closingMarks: await allClosingMarks(t) };
    expectSame(rows, recomputeTimeline(input, { ...q, weights, days }));

    // Without the optional inputs the new columns are null, as before.
    const plain = await riskTimeline(t.storage, q);
    expect(plain.map((r) => [r.bwd, r.dayPnl, r.benchmarkPrice])).toEqual([[null, null, null], [null, null, null]]);
    expect(plain[0]!.delta).toBeCloseTo(200, 9);
  });

  it('a generated two-day book (NY midnight inside the range: the day reference changes) equals the direct recomputation', async () => {
    const gen = generatedBook();
    for (const d of [0, 1, 2]) await t.storage.ensurePartitions(gen.start + d * 86_400_000);
    await t.storage.query('DELETE FROM greek_snapshots');
    await t.storage.query('DELETE FROM closing_marks');
    await t.storage.writeSnapshots(gen.snapshots);
    for (const [key, list] of gen.positionSets) {
      const [broker, account] = key.split('|') as [string, string];
      await t.storage.replacePositions(broker, account, list, gen.start);
    }
    await t.storage.query('DELETE FROM positions WHERE account = $1', ['ACC1']); // the first test's positions
    await t.storage.replacePositions('tasty', 'ACC1', gen.positionSets.get('tasty|ACC1')!, gen.start);
    await t.storage.replacePositions('ibkr', 'U1', gen.positionSets.get('ibkr|U1')!, gen.start);
    await insertClosingMarks(t, gen.storedCloses);

    const weights = await loadTimelineWeights(t.storage, 'SPY', rulesOf({ QQQ: 1.1 }));
    const seen: TimelineRow[] = [];
    for (const q of gen.queries) {
      const days = await loadTimelineDays(t.storage, q); // materialises the Tuesday close from the snapshots
      expect(days.days.length).toBe(q.to - q.from > 3_600_000 ? 2 : days.days.length);
      const input = { snapshots: gen.snapshots, positions: await positionsOf(t), closingMarks: await allClosingMarks(t) };
      const sql = await riskTimeline(t.storage, { ...q, weights, days });
      expect(sql.length).toBeGreaterThan(0);
      expectSame(sql, recomputeTimeline(input, { ...q, weights, days }));
      seen.push(...sql);
    }
    // The book exercises what it should: known and unknown day P&L and bwd, stock/future rows in the sums.
    expect(seen.filter((r) => r.dayPnl !== null).length).toBeGreaterThan(0);
    expect(seen.filter((r) => r.dayPnl === null).length).toBeGreaterThan(0);
    expect(seen.filter((r) => r.bwd !== null && r.underlying === 'QQQ').length).toBeGreaterThan(0);
    expect(new Set(seen.filter((r) => r.underlying === 'SPY' && r.account === 'U1').map((r) => r.positions))).toContain(2); // put + future
    expect((await allClosingMarks(t)).some((c) => c.day === '2025-01-07')).toBe(true); // Tuesday's close materialised
    // The range crosses New York midnight: buckets before it measure against Monday, after it against Tuesday.
    const s = timelineSessions(gen.queries[0]!);
    expect(s.days).toEqual(['2025-01-06', '2025-01-07']);
  });

  // Continues from the tables of the test above. The history rollup (greek_rollup, its next_end
  // chain: specs/history.md, D81) must give the direct recomputation's numbers: stock/future
  // rows, P&L, day P&L, bwd and the benchmark price included. Three states: every row still raw
  // (the rollup just ran: rows inside its margin), every row served by the rollup (fast path),
  // and a mix (late rows of two contracts the rollup has not seen: those go the slow path).
  it('the same book through the history rollup (fast path, slow path, a mix) equals the direct recomputation', async () => {
    const gen = generatedBook();
    const weights = await loadTimelineWeights(t.storage, 'SPY', rulesOf({ QQQ: 1.1 }));
    const wedMidnightNy = Date.UTC(2025, 0, 8, 5, 0, 0);
    const queries: TimelineQuery[] = [
      ...gen.queries,
      { from: wedMidnightNy - 3 * 3_600_000, to: wedMidnightNy + 2 * 3_600_000 + 17_000, bucketMs: 60_000, staleMs: 15 * 60_000 },
      { from: wedMidnightNy - 4 * 3_600_000, to: wedMidnightNy + 3 * 3_600_000, bucketMs: 3_600_000, staleMs: 90 * 60_000, allAccounts: true },
      { from: wedMidnightNy - 3 * 3_600_000, to: wedMidnightNy + 1 * 3_600_000, bucketMs: 120_000, staleMs: 50_000, accounts: ['U1'] },
    ];
    const check = async (state: string) => {
      const input = { snapshots: await snapshotsOf(t), positions: await positionsOf(t), closingMarks: await allClosingMarks(t) };
      for (const q of queries) {
        const days = await loadTimelineDays(t.storage, q);
        const viaRollup = await riskTimeline(t.storage, { ...q, weights, days });
        expect(viaRollup.length, state).toBeGreaterThan(0);
        expectSame(viaRollup, recomputeTimeline(input, { ...q, weights, days }));
        expectSame(viaRollup, await riskTimeline(t.storage, { ...q, weights, days, rollup: false }));
      }
    };
    const run = await t.storage.rollup!();
    expect(run.ran).toBe(true);
    const [linked] = await t.storage.query<{ n: number; linked: number }>('SELECT count(*)::int AS n, count(next_end)::int AS linked FROM greek_rollup WHERE grain_s = 60');
    expect(linked.n).toBeGreaterThan(100);
    // every row but each position's last names its next one
    const [positions] = await t.storage.query<{ n: number }>('SELECT count(DISTINCT (broker, account, contract_key))::int AS n FROM greek_rollup WHERE grain_s = 60');
    expect(linked.linked).toBe(linked.n - positions.n);
    await check('raw rows inside the margin');
    await t.storage.query(`UPDATE greek_rollup_state SET watermark = clock_timestamp() + interval '1 hour'`);
    await check('everything from the rollup');
    // The rollup has seen everything up to now; late rows of two contracts arrive after it.
    await t.storage.query(`UPDATE greek_rollup_state SET watermark = clock_timestamp() + interval '5 minutes'`);
    const late = gen.snapshots
      .filter((x) => x.contractKey === 'SPY   250321P00470000' || x.contractKey === 'QQQ   250321P00390000')
      .filter((_, i) => i % 4 === 1)
      .map((x) => ({ ...x, eventTs: x.eventTs + 20_000, seq: x.seq + 10, delta: (x.delta ?? 0) + 0.5, mark: x.mark === null ? 4 : x.mark + 1 }));
    await t.storage.writeSnapshots(late);
    await check('late rows of two contracts not rolled up yet');
    await t.storage.rollup!();
    await t.storage.query(`UPDATE greek_rollup_state SET watermark = clock_timestamp() + interval '1 hour'`);
    await check('the late rows rolled up and relinked');
  });
});

async function snapshotsOf(t: TestStorage): Promise<GreekSnapshot[]> {
  const rows = await t.storage.query<Record<string, unknown>>(`SELECT broker, account, contract_key, underlying, (extract(epoch FROM event_ts) * 1000)::float8 AS e, seq, quantity::float8 AS q, multiplier::float8 AS m, bid, ask, mark, underlying_price, delta, gamma, theta, vega FROM greek_snapshots`);
  return rows.map((r) => ({
    broker: r.broker as string, account: r.account as string, contractKey: r.contract_key as string, underlying: r.underlying as string,
    eventTs: Number(r.e), seq: Number(r.seq), receivedAt: Number(r.e), quantity: Number(r.q), multiplier: Number(r.m),
    bid: r.bid as number | null, ask: r.ask as number | null, mark: r.mark as number | null, underlyingPrice: r.underlying_price as number | null,
    iv: null, delta: r.delta as number | null, gamma: r.gamma as number | null, theta: r.theta as number | null, vega: r.vega as number | null, rho: null,
  }));
}

async function positionsOf(t: TestStorage): Promise<Position[]> {
  const rows = await t.storage.query<Record<string, unknown>>('SELECT broker, account, contract_key, underlying, quantity::float8 AS q, multiplier::float8 AS m, avg_price, asset_class FROM positions');
  return rows.map((r) => ({
    broker: r.broker as string, account: r.account as string, contractKey: r.contract_key as string, underlying: r.underlying as string,
    quantity: Number(r.q), multiplier: Number(r.m), avgPrice: r.avg_price === null ? null : Number(r.avg_price), assetClass: r.asset_class as Position['assetClass'],
  }));
}

function expectSame(actual: TimelineRow[], expected: TimelineRow[]): void {
  const key = (r: TimelineRow) => `${r.bucketStart}|${r.underlying}|${r.account}`;
  expect(actual.map(key)).toEqual(expected.map(key));
  actual.forEach((a, i) => {
    const e = expected[i]!;
    expect([a.positions, a.brokers, a.asOf], key(a)).toEqual([e.positions, e.brokers, e.asOf]);
    for (const f of ['delta', 'gamma', 'theta', 'vega', 'dollarDelta', 'bwd', 'unrealizedPnl', 'dayPnl', 'benchmarkPrice'] as const) {
      const x = a[f] ?? null;
      const y = e[f] ?? null;
      if (y === null) expect(x, `${key(a)} ${f}`).toBeNull();
      else expect(x, `${key(a)} ${f}`).toBeCloseTo(y, 6);
    }
  });
}

/**
 * A deterministic book around New York midnight Tuesday→Wednesday (05:00Z Wed 2025-01-08):
 * SPY and QQQ options at two brokers / accounts, an SPY stock and a /ES future position, quiet
 * and busy contracts, missing marks and prices, a Monday close stored for some contracts only,
 * and snapshots before Tuesday's close so that close is materialised from them.
 */
function generatedBook() {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
  const start = Date.UTC(2025, 0, 7, 20, 0, 0); // Tue 15:00 New York
  const contracts = [
    { broker: 'tasty', account: 'ACC1', key: 'SPY   250321C00500000', und: 'SPY', qty: 2, avg: 6 },
    { broker: 'tasty', account: 'ACC1', key: 'SPY   250321P00470000', und: 'SPY', qty: -3, avg: 1.5 },
    { broker: 'tasty', account: 'ACC1', key: 'QQQ   250321C00400000', und: 'QQQ', qty: 1, avg: null },
    { broker: 'ibkr', account: 'U1', key: 'SPY   250321P00480000', und: 'SPY', qty: -1, avg: 3 },
    { broker: 'ibkr', account: 'U1', key: 'QQQ   250321P00390000', und: 'QQQ', qty: 4, avg: 2 },
  ];
  const snapshots: GreekSnapshot[] = [];
  let tick = 0;
  for (const [ci, c] of contracts.entries()) {
    let at = start + ci * 7;
    const end = start + 10 * 3_600_000;
    while (at < end) {
      tick++;
      const quiet = ci === 2 && at > start + 9 * 3_600_000 - 1_800_000; // goes quiet: drops out once stale
      if (!quiet) {
        const spot = (c.und === 'SPY' ? 500 : 400) + (rnd() - 0.5) * 10;
        snapshots.push({
          broker: c.broker, account: c.account, contractKey: c.key, underlying: c.und, eventTs: at, seq: tick % 3, receivedAt: at + 2,
          quantity: c.qty, multiplier: 100, bid: rnd() < 0.2 ? 1 : null, ask: rnd() < 0.2 ? 1.4 : null,
          mark: rnd() < 0.15 ? null : Math.round((1 + rnd() * 9) * 100) / 100,
          underlyingPrice: rnd() < 0.1 ? null : Math.round(spot * 100) / 100,
          iv: 0.2, delta: rnd() < 0.05 ? null : Math.round((rnd() - 0.5) * 100) / 100, gamma: 0.01, theta: -0.05, vega: rnd() < 0.1 ? null : 0.2, rho: null,
        });
      }
      at += 60_000 + Math.floor(rnd() * 17 * 60_000) + ci; // 1–18 minutes apart, never the same instant across contracts
    }
  }
  const positionSets = new Map<string, Position[]>();
  for (const c of contracts) {
    const k = `${c.broker}|${c.account}`;
    positionSets.set(k, [...(positionSets.get(k) ?? []), pos(c.broker, c.account, c.key, c.und, c.qty, c.avg)]);
  }
  positionSets.get('tasty|ACC1')!.push(pos('tasty', 'ACC1', 'SPY', 'SPY', 300, 495, 'equity', 1));
  positionSets.get('ibkr|U1')!.push(pos('ibkr', 'U1', '/ESH5', 'SPY', -1, 5000, 'future', 50)); // priced off SPY snapshots here: qty x 50 per point
  const storedCloses = [
    { contractKey: 'SPY   250321C00500000', day: '2025-01-06', mark: 5.5 },
    { contractKey: 'SPY', day: '2025-01-06', mark: 497 },
    { contractKey: 'QQQ   250321P00390000', day: '2025-01-06', mark: 2.2 },
  ];
  const wedMidnightNy = Date.UTC(2025, 0, 8, 5, 0, 0);
  const queries: TimelineQuery[] = [
    { from: wedMidnightNy - 3 * 3_600_000, to: wedMidnightNy + 2 * 3_600_000 + 17_000, bucketMs: 15 * 60_000, staleMs: 20 * 60_000 },
    { from: wedMidnightNy - 3 * 3_600_000, to: wedMidnightNy + 2 * 3_600_000, bucketMs: 10 * 60_000, staleMs: 45 * 60_000, allAccounts: true },
    { from: wedMidnightNy - 3 * 3_600_000, to: wedMidnightNy + 2 * 3_600_000, bucketMs: 30 * 60_000, staleMs: 30 * 60_000, underlyings: ['SPY'], brokers: ['tasty'] },
  ];
  return { start, snapshots, positionSets, storedCloses, queries };
}

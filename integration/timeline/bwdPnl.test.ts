import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { riskTimeline, type TimelineQuery, type TimelineRow } from '../../src/db/timeline.js';
import { loadTimelineWeights } from '../../src/risk/timelineWeights.js';
import type { BetaEntry } from '../../src/risk/types.js';
import { runCli } from '../helpers/cli.js';
import { describeBackends, describePg, openTestStorage, type TestStorage } from '../helpers/pg.js';
import { FIXTURE_POSITIONS, FIXTURE_WITH_MARKS, T0 } from './fixture.js';

const s = (sec: number) => T0 + sec * 1000;
const iso = (sec: number) => new Date(s(sec)).toISOString();
const base: TimelineQuery = { from: s(0), to: s(240), bucketMs: 60_000, staleMs: 180_000 };
const rules = (betas: Record<string, number>) => ({ betas: new Map<string, BetaEntry>(Object.entries(betas).map(([k, b]) => [k, { beta: b, source: 'config' }])) });

async function load(t: TestStorage): Promise<void> {
  await t.storage.ensurePartitions(T0);
  await t.storage.writeSnapshots(FIXTURE_WITH_MARKS);
  for (const [broker, account, positions] of FIXTURE_POSITIONS) await t.storage.replacePositions(broker, account, positions, s(0));
}

/** [asOf (s after T0), underlying, account, bwd, unrealized P&L] */
type Expected = [number, string, string | null, number | null, number | null];

function expectRows(rows: TimelineRow[], expected: Expected[]): void {
  expect(rows.map((r) => [(r.asOf - T0) / 1000, r.underlying, r.account])).toEqual(expected.map((e) => e.slice(0, 3)));
  rows.forEach((r, i) => {
    const [, , , bwd, pnl] = expected[i];
    if (bwd === null) expect(r.bwd, `row ${i} bwd`).toBeNull();
    else expect(r.bwd, `row ${i} bwd`).toBeCloseTo(bwd, 9);
    if (pnl === null) expect(r.unrealizedPnl, `row ${i} pnl`).toBeNull();
    else expect(r.unrealizedPnl, `row ${i} pnl`).toBeCloseTo(pnl, 9);
  });
}

describeBackends('risk timeline bwd and unrealized P&L on a hand-made book', (backend) => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage(backend);
    await load(t);
  });
  afterAll(() => t?.close());

  it('benchmark SPY at each bucket\'s price (501 at 60 s: C; 502 from 70 s: A seq 1), QQQ beta 1.2 from the rules: bwd = $delta x beta / SPY(as_of)', async () => {
    const weights = await loadTimelineWeights(t.storage, 'SPY', rules({ QQQ: 1.2 }));
    expect(weights.benchmarkPrice).toBe(510); // the latest (A at 300 s): headers only
    const rows = await riskTimeline(t.storage, { ...base, weights });
    expectRows(rows, [
      // $delta of each row from query.test.ts; P&L = (mark - avg) x size, per position (fixture.ts)
      [60, 'QQQ', 'ACC2', (48000 * 1.2) / 501, (5 - 4) * 300],
      [60, 'SPY', 'ACC1', 39980 / 501, (6 - 5) * 200 + (3.2 - 3) * 100], // C: mid of 3.0/3.4
      [60, 'SPY', 'U1', 15000 / 501, (2.5 - 2) * -100],
      [120, 'QQQ', 'U1', null, null], // D: no underlying price, no avg_price
      [120, 'SPY', 'ACC1', 50220 / 502, (7 - 5) * 200 + (3.2 - 3) * 100], // A's seq 1 mark wins
      [120, 'SPY', 'U1', 15000 / 502, -50],
      [180, 'QQQ', 'U1', null, null],
      [180, 'SPY', 'ACC1', 50220 / 502, 420],
      [180, 'SPY', 'U1', 15000 / 502, -50],
      [240, 'QQQ', 'U1', null, null],
      [240, 'SPY', 'ACC1', 60240 / 502, (7 - 5) * 200],
    ]);
    expect(rows.map((r) => r.benchmarkPrice)).toEqual([501, 501, 501, 502, 502, 502, 502, 502, 502, 502, 502]);
  });

  it('an underlying without a beta gets null bwd (never beta 1); P&L does not need a beta', async () => {
    const weights = await loadTimelineWeights(t.storage, 'SPY', rules({}));
    const rows = await riskTimeline(t.storage, { ...base, to: s(60), weights });
    expectRows(rows, [
      [60, 'QQQ', 'ACC2', null, 300],
      [60, 'SPY', 'ACC1', 39980 / 501, 220],
      [60, 'SPY', 'U1', 15000 / 501, -50],
    ]);
  });

  it('benchmark QQQ (price 400): SPY weighted by 1 / beta(QQQ); summed across accounts', async () => {
    const weights = await loadTimelineWeights(t.storage, 'QQQ', rules({ QQQ: 1.25 }));
    expect(weights.benchmarkPrice).toBe(400);
    expectRows(await riskTimeline(t.storage, { ...base, to: s(60), allAccounts: true, weights }), [
      [60, 'QQQ', null, 48000 / 400, 300],
      [60, 'SPY', null, 54980 / 1.25 / 400, 220 - 50],
    ]);
  });

  it('without weights bwd is null and the existing columns are as before', async () => {
    const rows = await riskTimeline(t.storage, { ...base, to: s(60) });
    expect(rows.map((r) => [r.bwd, r.unrealizedPnl, r.dollarDelta])).toEqual([[null, 300, 48000], [null, expect.closeTo(220, 9), 39980], [null, -50, 15000]]);
  });
});

describePg('npm run timeline --json / --csv --wide with RISK_RULES_FILE betas', () => {
  let t: TestStorage;
  let dir: string;
  beforeAll(async () => {
    t = await openTestStorage('postgres');
    await load(t);
    dir = mkdtempSync(join(tmpdir(), 'rw-timeline-'));
    writeFileSync(join(dir, 'rules.json'), JSON.stringify({ betas: { QQQ: 1.2 } }));
  });
  afterAll(async () => {
    await t?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const run = (args: string[]) => runCli('timeline', [`--from=${iso(0)}`, `--to=${iso(60)}`, '--bucket=1m', '--stale=3m', ...args],
    { DATABASE_URL: t.url, LOG_LEVEL: 'warn', RISK_RULES_FILE: join(dir, 'rules.json'), BENCHMARK: 'SPY' });

  it('--json carries bwd and unrealized_pnl per row', async () => {
    const r = run(['--json']);
    expect(await r.exit).toBe(0);
    const rows = JSON.parse(r.stdout());
    expect(rows.map((x: { underlying: string; account: string }) => `${x.underlying}/${x.account}`)).toEqual(['QQQ/ACC2', 'SPY/ACC1', 'SPY/U1']);
    expect(rows[0].bwd).toBeCloseTo((48000 * 1.2) / 501, 9);
    expect(rows[1].bwd).toBeCloseTo(39980 / 501, 9);
    expect(rows[1].benchmark_price).toBe(501);
    expect(rows.map((x: { unrealized_pnl: number }) => x.unrealized_pnl)).toEqual([300, expect.closeTo(220, 9), -50]);
  });

  it('--csv --wide appends bwd and unrealized_pnl after the usual columns', async () => {
    const r = run(['--csv', '--wide', '--underlying=QQQ']);
    expect(await r.exit).toBe(0);
    const [header, line] = r.stdout().trim().split('\n');
    expect(header).toBe('bucket_start,bucket_end,as_of,underlying,account,positions,brokers,delta,gamma,theta,vega,dollar_delta,bwd,unrealized_pnl,day_pnl');
    const cells = line.split(',');
    expect(cells.slice(3, 5)).toEqual(['QQQ', 'ACC2']);
    expect(Number(cells[12])).toBeCloseTo((48000 * 1.2) / 501, 9);
    expect(Number(cells[13])).toBe(300);
  });

  it('an unknown --benchmark symbol is a one-line exit-2 error', async () => {
    const r = run(['--benchmark=not a symbol']);
    expect(await r.exit).toBe(2);
  });
});


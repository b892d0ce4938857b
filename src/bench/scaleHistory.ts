import type { Logger } from 'pino';
import { TIMELINE_DEFAULTS } from '../api/params.js';
import { createPostgresDriver } from '../db/driver-postgres.js';
import { openReadStorage, openStorage } from '../db/index.js';
import { rollupIncremental } from '../db/rollup.js';
import { riskTimeline, type TimelineQuery } from '../db/timeline.js';
import type { Storage } from '../db/types.js';
import { computeRisk } from '../risk/compute.js';
import { loadRules } from '../risk/rules.js';
import { loadTimelineDays, loadTimelineWeights } from '../risk/timelineWeights.js';
import { freshBenchDatabase } from './database.js';
import { generateHistory } from './history.js';
import type { ScaleSection } from './scale.js';

const DAY = 86_400_000;

/** The naive baseline: one GROUP BY date_trunc('minute') over the day's raw rows (no as-of, no carry-forward). */
export const NAIVE_DAY_SQL = `SELECT date_trunc('minute', event_ts) AS minute, underlying, account, count(*) AS n,
       sum(delta * quantity * multiplier) AS delta, sum(gamma * quantity * multiplier) AS gamma,
       sum(theta * quantity * multiplier) AS theta, sum(vega * quantity * multiplier) AS vega,
       sum(delta * quantity * multiplier * underlying_price) AS dollar_delta
  FROM greek_snapshots
 WHERE event_ts >= 'epoch'::timestamptz + $1::float8 * interval '1 millisecond'
   AND event_ts < 'epoch'::timestamptz + $2::float8 * interval '1 millisecond'
 GROUP BY 1, 2, 3`;

/** Median (with min, max) wall time of `runs` runs after one warm-up. */
export async function timed(runs: number, fn: () => Promise<unknown>): Promise<{ median: number; min: number; max: number; runs: number[] }> {
  await fn();
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 10) / 10;
  return { median: r(sorted[Math.floor((sorted.length - 1) / 2)]), min: r(sorted[0]), max: r(sorted[sorted.length - 1]), runs: ms.map(r) };
}

export interface HistoryFigures {
  rows: number;
  contracts: number;
  days: number;
  update_every_s: number;
  load_s: number;
  rollup_s: number;
  rollup_rows: { minute: number; hour: number };
  timeline_day_ms: number;
  timeline_month_ms: number;
  naive_day_ms: number;
  timeline_day_raw_ms: number;
  /** The same queries with bwd and day P&L, as `npm run timeline` runs them. */
  timeline_day_cli_ms: number;
  timeline_month_cli_ms: number;
  risk_ms: number;
  spread: Record<string, { median: number; min: number; max: number }>;
}

/** Generates `rows` of history into `url`, builds the rollup, and times the queries. */
export async function historyFigures(url: string, rows: number, log: Logger, say: (s: string) => void, runs = 5, method: 'copy' | 'sql' = 'sql'): Promise<HistoryFigures> {
  const endMs = Math.floor(Date.now() / DAY) * DAY;
  say(`history: generating ${rows} rows (${method === 'sql' ? 'INSERT … SELECT generate_series in the server' : 'COPY'})...`);
  // Migrate, then time through a read pool like the API's (no maintenance timers competing with the load).
  await (await openStorage({ databaseUrl: url, log, maxConnections: 1 })).close();
  const storage: Storage = (await openReadStorage({ databaseUrl: url, log, maxConnections: 2, statementTimeoutMs: 300_000 }))!;
  try {
    const shape = await generateHistory(url, { rows, endMs, say, method });
    say(`history: ${rows} rows loaded in ${shape.loadSeconds.toFixed(1)} s; building the rollup...`);
    const t0 = performance.now();
    const driver = createPostgresDriver(url, { max: 1, statementTimeoutMs: 0 });
    const roll = await rollupIncremental(driver).finally(() => driver.close());
    await storage.query('ANALYZE greek_snapshots');
    await storage.query('ANALYZE greek_rollup');
    const rollupS = (performance.now() - t0) / 1000;
    say(`history: rollup built in ${rollupS.toFixed(1)} s (${roll.rows[60]} minute rows, ${roll.rows[3600]} hour rows); timing the queries...`);
    const lastSession = shape.sessions[shape.sessions.length - 1];
    const dayFrom = Math.floor(lastSession / DAY) * DAY;
    const base = { staleMs: TIMELINE_DEFAULTS.staleMs };
    const dayQ: TimelineQuery = { ...base, from: dayFrom, to: dayFrom + DAY, bucketMs: 60_000 };
    const monthQ: TimelineQuery = { ...base, from: endMs - 30 * DAY, to: endMs, bucketMs: 3_600_000 };
    const day = await timed(runs, () => riskTimeline(storage, dayQ));
    const month = await timed(runs, () => riskTimeline(storage, monthQ));
    const naive = await timed(runs, () => storage.query(NAIVE_DAY_SQL, [dayFrom, dayFrom + DAY]));
    const dayRaw = await timed(Math.min(runs, 3), () => riskTimeline(storage, { ...dayQ, rollup: false }));
    const rules = loadRules();
    // What `npm run timeline` and /v1/risk/timeline run: the same buckets plus beta-weighted delta
    // (per-bucket benchmark price) and day P&L (closing mark or first mark after the close).
    const asTheCliDoes = async (q: TimelineQuery) =>
      riskTimeline(storage, { ...q, weights: await loadTimelineWeights(storage, 'SPY', rules), days: await loadTimelineDays(storage, q) });
    const dayCli = await timed(runs, () => asTheCliDoes(dayQ));
    const monthCli = await timed(runs, () => asTheCliDoes(monthQ));
    const risk = await timed(runs, () => computeRisk(storage, { now: shape.lastMs, benchmark: 'SPY', rules }));
    return {
      rows, contracts: shape.contracts, days: shape.sessions.length, update_every_s: Math.round(shape.updateEveryS * 10) / 10,
      load_s: Math.round(shape.loadSeconds * 10) / 10, rollup_s: Math.round(rollupS * 10) / 10,
      rollup_rows: { minute: roll.rows[60], hour: roll.rows[3600] },
      timeline_day_ms: day.median, timeline_month_ms: month.median, naive_day_ms: naive.median, timeline_day_raw_ms: dayRaw.median, risk_ms: risk.median,
      timeline_day_cli_ms: dayCli.median, timeline_month_cli_ms: monthCli.median,
      spread: { timeline_day_ms: day, timeline_month_ms: month, naive_day_ms: naive, timeline_day_raw_ms: dayRaw, risk_ms: risk, timeline_day_cli_ms: dayCli, timeline_month_cli_ms: monthCli },
    };
  } finally {
    await storage.close();
  }
}

/** history.{rows,timeline_day_ms,timeline_month_ms,naive_day_ms} (+ details). */
export const HISTORY_SECTION: ScaleSection = {
  key: 'history',
  title: 'a month of history: timeline day / month / naive GROUP BY',
  async run(ctx) {
    const rows = ctx.historyRows ?? (ctx.quick ? 500_000 : 10_000_000);
    const db = await freshBenchDatabase(ctx.databaseUrl);
    try {
      const f = await historyFigures(db.url, rows, ctx.log, ctx.say);
      const ok = f.timeline_day_ms <= 300 && f.timeline_month_ms <= 2000 && f.timeline_day_ms <= f.naive_day_ms / 2;
      const sp = (k: string) => `${f.spread[k].median} (${f.spread[k].min}-${f.spread[k].max})`;
      return {
        json: { ...f },
        ok: true, // targets are reported, not enforced: only rows lost / double streaming fail the run
        lines: [
          `history: ${f.rows} rows (${f.contracts} contracts, ${f.days} trading days, one update per ${f.update_every_s} s per contract); load ${f.load_s} s, rollup ${f.rollup_s} s`,
          `  timeline 1 day / 1 min: ${sp('timeline_day_ms')} ms median (min-max) (target ≤ 300, ≤ half of naive)`,
          `  timeline 30 days / 1 h: ${sp('timeline_month_ms')} ms (target ≤ 2000)`,
          `  as \`npm run timeline\` runs them (with bwd and day P&L): day ${sp('timeline_day_cli_ms')} ms, 30 days ${sp('timeline_month_cli_ms')} ms`,
          `  naive GROUP BY date_trunc('minute') over the day: ${sp('naive_day_ms')} ms; the day from raw rows only: ${sp('timeline_day_raw_ms')} ms`,
          `  risk document: ${sp('risk_ms')} ms; targets ${ok ? 'met' : 'NOT met'}`,
        ],
      };
    } finally {
      await db.drop();
    }
  },
};

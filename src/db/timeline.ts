/**
 * The unified risk timeline: net position greeks per time bucket and underlying (and account),
 * summed across brokers, computed by ONE SQL statement in the database (see specs/timeline.md).
 *
 * Each bucket is sampled at its end ("as of"). A position (broker, account, contract_key) counts
 * in a bucket with its newest snapshot at or before that instant, as long as that snapshot is
 * younger than the staleness bound; a quiet contract is carried forward, a dead one drops out.
 *
 * Position greeks = per-contract greek × quantity × multiplier: delta in shares equivalent,
 * gamma in shares per 1.00 move of the underlying, theta in currency per day, vega in currency
 * per vol point. Dollar delta = delta × quantity × multiplier × underlying price.
 * BWD = dollar delta × β / benchmark price (null when the underlying's β or the benchmark price
 * is unknown); unrealized P&L = (snapshot mark − position avg_price) × quantity × multiplier
 * (null for the row when any position in it lacks either).
 */
import { readRollupWatermark, ROLLUP_MARGIN_MS, rollupGrainFor } from './rollup.js';
import type { Storage } from './types.js';

export interface TimelineQuery {
  /** Start of the first bucket, epoch ms (aligned by resolveTimelineRange). */
  from: number;
  /** End of the range, epoch ms (exclusive for bucket starts; the last bucket is sampled here at the latest). */
  to: number;
  bucketMs: number;
  /** A snapshot older than this (relative to the sampling instant) no longer counts. */
  staleMs: number;
  accounts?: string[];
  underlyings?: string[];
  brokers?: string[];
  /** Sum across accounts (one row per bucket and underlying) instead of one row per account. */
  allAccounts?: boolean;
  /** Bucket edges shifted by this UTC offset (--tz: day buckets start at local midnight); default 0 = UTC. */
  alignOffsetMs?: number;
  /** false: read greek_snapshots only, never the rollup (the equality tests and the bench's baseline). Default true. */
  rollup?: boolean;
  /** The rollup's watermark (epoch ms; null = never ran): riskTimeline reads it. Without it the rollup is not used. */
  rollupWatermark?: number | null;
  /** Betas and benchmark for `bwd` (src/risk/timelineWeights.ts); without them bwd is null. */
  weights?: TimelineWeights;
  /**
   * Day P&L reference per bucket (src/risk/timelineWeights.ts timelineSessions): the previous
   * session's close of each bucket's as_of. Without it day P&L is null.
   */
  days?: TimelineDays;
}

export interface TimelineDays {
  /** Distinct previous-close session days ('YYYY-MM-DD', New York) and their close instants (epoch ms). */
  days: string[];
  closes: number[];
  /** Per bucket (index i), the 1-based index into `days` of its as_of's previous close. */
  bucketDay: number[];
}

export interface TimelineWeights {
  benchmark: string;
  /** The benchmark's latest price (headers); each bucket divides by its own price at as_of. */
  benchmarkPrice: number | null;
  /** β to the benchmark of each symbol that has a known one. */
  betas: { symbol: string; beta: number }[];
}

export interface TimelineRow {
  bucketStart: number;
  bucketEnd: number;
  /** The instant the values describe: min(bucketEnd, to). */
  asOf: number;
  underlying: string;
  /** null when summed across accounts. */
  account: string | null;
  positions: number;
  brokers: number;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  dollarDelta: number | null;
  /** Beta-weighted delta in benchmark shares; null when β or the benchmark price is unknown (always set by riskTimeline). */
  bwd?: number | null;
  /** Σ (mark − avg_price) × qty × multiplier; null when any position of the row lacks one. */
  unrealizedPnl?: number | null;
  /** Σ (mark − previous close mark) × qty × multiplier; null when any position lacks either (or without `days`). */
  dayPnl?: number | null;
  /** The benchmark's price at as_of that bwd divides by (newest at or before as_of, 4 days back at most). */
  benchmarkPrice?: number | null;
}

/** Buckets per query at most: bounds the result (buckets × underlyings × accounts rows). */
export const MAX_BUCKETS = 5000;

export class TimelineRangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimelineRangeError';
  }
}

/**
 * Aligns the range to whole buckets since the epoch (UTC), so the same bucket always has the
 * same edges whatever the caller's "now", and checks the bounds. Pure.
 */
export function resolveTimelineRange(from: number, to: number, bucketMs: number, offsetMs = 0): { from: number; to: number; buckets: number } {
  if (!Number.isFinite(bucketMs) || bucketMs < 1000) throw new TimelineRangeError(`bucket ${bucketMs} ms is too small: use at least 1s`);
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new TimelineRangeError('the time range is not valid');
  if (to <= from) throw new TimelineRangeError('the time range is empty: "to" must be after "from"');
  // offsetMs: the display zone's UTC offset (--tz), so day buckets start at local midnight.
  const start = Math.floor((from + offsetMs) / bucketMs) * bucketMs - offsetMs;
  const buckets = Math.ceil((to - start) / bucketMs);
  if (buckets > MAX_BUCKETS) {
    throw new TimelineRangeError(`the range holds ${buckets} buckets (at most ${MAX_BUCKETS}): use a bigger bucket or a shorter range`);
  }
  return { from: start, to, buckets };
}

const TS = (p: string) => `('epoch'::timestamptz + (${p})::float8 * interval '1 millisecond')`;
/**
 * The same instant through to_timestamp(float8), which is immutable (timestamptz + interval is
 * only stable): bounds on greek_snapshots.event_ts written with it are folded to constants when
 * the statement is planned with its values, so day partitions are pruned at plan time instead of
 * at executor start-up. On the 10 M-row history that cut the 1-minute day's planning from
 * 10–34 ms to 2–4 ms (EXPLAIN (SUMMARY), D99). Exact for the millisecond bounds used here.
 */
const TSP = (p: string) => `to_timestamp((${p})::float8 / 1000)`;

/** The statement and its parameters. Pure, so the SQL text is testable without a database. */
export function buildTimelineQuery(q: TimelineQuery): { text: string; params: unknown[] } {
  const { from, to, buckets } = resolveTimelineRange(q.from, q.to, q.bucketMs, q.alignOffsetMs ?? 0);
  if (!Number.isFinite(q.staleMs) || q.staleMs <= 0) throw new TimelineRangeError('the staleness bound must be > 0');
  const params: unknown[] = [from, q.bucketMs, buckets, to, q.staleMs];
  const filters: string[] = [];
  const anyOf = (col: string, values: string[] | undefined) => {
    if (!values || values.length === 0) return;
    params.push(values);
    filters.push(`${col} = ANY($${params.length}::text[])`);
  };
  anyOf('broker', q.brokers);
  anyOf('account', q.accounts);
  anyOf('underlying', q.underlyings);
  // Stock and future positions (risk.md: delta = qty, future qty × mult; no other Greek) live in
  // `positions` only: they count in each bucket where their underlying has a fresh price there.
  const stockFilters = filters.map((f) => `AND ${f}`).join(' ');
  // bwd = dollar delta × β(underlying) / the benchmark's price at as_of; β from a (symbol, β)
  // list joined per row: an underlying without one gets NULL (never β = 1). Without weights bwd is NULL.
  let bwdSql = 'NULL::float8';
  let benchSql = 'NULL::float8';
  let betaSql = 'NULL::float8';
  let bpSql = 'NULL::float8';
  let betaJoin = '';
  let benchCte = '';
  if (q.weights) {
    params.push(q.weights.betas.map((b) => b.symbol), q.weights.betas.map((b) => b.beta), q.weights.benchmark);
    const n = params.length;
    benchCte = `,
bp AS (
  SELECT g.i, x.price FROM generate_series(0, $3::int - 1) AS g(i)
  LEFT JOIN LATERAL (
    SELECT underlying_price AS price FROM greek_snapshots
     WHERE underlying = $${n}::text AND underlying_price IS NOT NULL
       AND event_ts <= ${TS('least($1::float8 + (g.i + 1) * $2::float8, $4::float8)')}
       AND event_ts > ${TS('least($1::float8 + (g.i + 1) * $2::float8, $4::float8) - 4 * 86400000')}
     ORDER BY event_ts DESC, seq DESC LIMIT 1) x ON true
)`;
    betaSql = 'max(bt.beta)';
    bpSql = 'max(bp.price)';
    bwdSql = 'sum(g.dd) * max(g.beta) / nullif(max(g.bp), 0)';
    benchSql = 'max(g.bp)';
    betaJoin = `LEFT JOIN unnest($${n - 2}::text[], $${n - 1}::float8[]) AS bt(symbol, beta) ON bt.symbol = s.underlying
  LEFT JOIN bp ON bp.i = s.i`;
  }
  // day P&L = (mark − reference) × size; reference = the closing mark of the bucket's previous
  // session (closing_marks: option key, or the underlying symbol for stock), else the first
  // mark after that close (as npm run risk labels first_of_day). That first mark is looked up per
  // (broker, account) holding the contract, so it is a range scan of greek_snapshots' primary key
  // (broker, account, contract_key, event_ts, …) in the first partition after the close, then the
  // earliest of those; by contract_key alone no index applies and a month with no stored closes
  // scanned every later partition per contract and day (a 30-day timeline never finished).
  let dayCte = '';
  let daySql = 'NULL::float8';
  let dayInner = 'NULL::bigint AS ndx, NULL::float8 AS sdx';
  let dayJoin = '';
  if (q.days) {
    params.push(q.days.days, q.days.closes, q.days.bucketDay);
    const n = params.length;
    dayCte = `,
keys AS (
  SELECT contract_key, underlying, stock, array_agg(broker) AS brokers, array_agg(account) AS accounts
    FROM (SELECT DISTINCT broker, account, contract_key, underlying, stock FROM allrows) ka
   GROUP BY contract_key, underlying, stock
),
dref AS (
  SELECT k.contract_key, d.ord::int AS ord, coalesce(cm.mark, fo.m, fu.m) AS ref
    FROM keys k
    CROSS JOIN unnest($${n - 2}::date[], $${n - 1}::float8[]) WITH ORDINALITY AS d(day, close_at, ord)
    LEFT JOIN closing_marks cm ON cm.contract_key = CASE WHEN k.stock THEN k.underlying ELSE k.contract_key END AND cm.day = d.day
    LEFT JOIN LATERAL (
      SELECT f.m FROM unnest(k.brokers, k.accounts) AS ba(broker, account)
       CROSS JOIN LATERAL (
         SELECT g.mark AS m, g.event_ts AS t FROM greek_snapshots g
          WHERE g.broker = ba.broker AND g.account = ba.account AND g.contract_key = k.contract_key
            AND g.mark IS NOT NULL AND g.event_ts > ${TS('d.close_at')}
          ORDER BY g.event_ts LIMIT 1) f
       WHERE cm.mark IS NULL AND NOT k.stock
       ORDER BY f.t LIMIT 1) fo ON true
    LEFT JOIN LATERAL (
      SELECT g.underlying_price AS m FROM greek_snapshots g
       WHERE cm.mark IS NULL AND k.stock AND g.underlying = k.underlying AND g.underlying_price IS NOT NULL AND g.event_ts > ${TS('d.close_at')}
       ORDER BY g.event_ts LIMIT 1) fu ON true
)`;
    dayInner = 'count((s.mark - dr.ref) * s.size) AS ndx, sum((s.mark - dr.ref) * s.size) AS sdx';
    daySql = 'CASE WHEN sum(g.n) = sum(g.ndx) THEN sum(g.sdx) END';
    dayJoin = `LEFT JOIN dref dr ON dr.contract_key = s.contract_key AND dr.ord = ($${n}::int[])[s.i + 1]`;
  }
  const and = filters.map((f) => `AND ${f}`).join(' ');
  const RAW_COLS = `broker, account, contract_key, underlying, event_ts, seq,
         (extract(epoch FROM event_ts) * 1000)::float8 AS e,
         quantity::float8 * multiplier::float8 AS size, delta, gamma, theta, vega, underlying_price,
         coalesce(mark, CASE WHEN bid IS NOT NULL AND ask IS NOT NULL AND ask >= bid AND bid >= 0 THEN (bid + ask) / 2 END) AS mark`;
  // With a bucket of whole minutes or hours the snapshots come from greek_rollup (the newest of
  // each position per grain, src/db/rollup.ts) up to the last whole grain before "to", plus the
  // raw rows after it and the raw rows the rollup job has not seen yet (persisted after its
  // watermark − margin). The rollup is used only once it has run (rollupWatermark given,
  // riskTimeline reads it). Two paths, the same numbers (specs/history.md, D81):
  //  fast  positions with no such raw row: each rollup row stays the position's latest from its
  //        bucket up to the bucket of its next row (next_end, kept by the rollup job), so no sort
  //        by position and no window: one index range scan + generate_series.
  //  slow  positions with raw rows: their rollup rows ∪ the raw rows through the newest-per-bucket
  //        step below (DISTINCT ON … ORDER BY event_ts DESC, seq DESC), which removes the overlap.
  const grainMs = q.rollup === false || q.rollupWatermark === undefined || q.rollupWatermark === null ? undefined : rollupGrainFor(q.bucketMs, q.alignOffsetMs ?? 0);
  let pre = '';
  let snapSql: string;
  let fastSql = '';
  if (grainMs === undefined) {
    snapSql = `SELECT ${RAW_COLS}
    FROM greek_snapshots
   WHERE event_ts > ${TSP('$1::float8 - $5::float8')} AND event_ts <= ${TSP('$4::float8')}
     ${and}`;
  } else {
    // The watermark as a value (not a subquery), so the planner sees how few raw rows are newer.
    params.push(Math.floor(to / grainMs) * grainMs, grainMs / 1000, q.rollupWatermark! - ROLLUP_MARGIN_MS);
    const cut = `$${params.length - 2}::float8`;
    const grain = `$${params.length - 1}::int`;
    const unrolled = `$${params.length}::float8`;
    pre = `raw AS (
  SELECT ${RAW_COLS}
    FROM greek_snapshots
   WHERE event_ts > ${TSP(`greatest($1::float8 - $5::float8, ${cut})`)} AND event_ts <= ${TSP('$4::float8')} ${and}
  UNION ALL
  SELECT ${RAW_COLS}
    FROM greek_snapshots
   WHERE event_ts > ${TSP('$1::float8 - $5::float8')} AND event_ts <= ${TSP(cut)} ${and}
     AND persisted_at > ${TSP(unrolled)}
),
rawpos AS (SELECT DISTINCT broker, account, contract_key FROM raw),
roll AS NOT MATERIALIZED (
  SELECT broker, account, contract_key, underlying, event_ts, seq, (extract(epoch FROM event_ts) * 1000)::float8 AS e,
         size, delta, gamma, theta, vega, underlying_price, mark,
         date_part('epoch', bucket_end) * 1000 AS end_ms, date_part('epoch', next_end) * 1000 AS next_ms,
         date_part('epoch', event_ts) * 1000 AS approx_e
    FROM greek_rollup
   WHERE grain_s = ${grain} AND bucket_end > ${TS('$1::float8 - $5::float8')} AND bucket_end <= ${TS(cut)}
     AND event_ts > ${TS('$1::float8 - $5::float8')} ${and}
),
`;
    snapSql = `SELECT broker, account, contract_key, underlying, event_ts, seq, e, size, delta, gamma, theta, vega, underlying_price, mark
    FROM roll WHERE (broker, account, contract_key) IN (SELECT broker, account, contract_key FROM rawpos)
  UNION ALL
  SELECT * FROM raw`;
    // bucket_end and next_end are whole grains and the bucket edges are too: the bucket of a row
    // (and of its next one) is that of its snapshot. A next row past the cut is past "to" (the
    // position has no raw row in (cut, to]): the row stays latest to the end of the range.
    // Staleness is checked on event_ts itself (exact); approx_e (float8 seconds × 1000, not the
    // numeric extract) only bounds the series, one bucket wide. The series sits in the select
    // list (ProjectSet: no per-row function scan).
    fastSql = `
  UNION ALL
  SELECT f.i, f.broker, f.account, f.contract_key, f.underlying, f.event_ts, f.seq, f.size, f.delta, f.gamma, f.theta, f.vega, f.underlying_price, f.mark
    FROM (
    SELECT generate_series(
             greatest(ceil((r.end_ms - $1::float8) / $2::float8)::int - 1, 0),
             least(CASE WHEN r.next_ms <= ${cut} THEN ceil((r.next_ms - $1::float8) / $2::float8)::int - 1 ELSE $3::int END - 1,
                   $3::int - 1, ceil((r.approx_e + $5::float8 - $1::float8) / $2::float8)::int)
           ) AS i, r.*
      FROM roll r
     WHERE NOT EXISTS (SELECT 1 FROM rawpos x WHERE x.broker = r.broker AND x.account = r.account AND x.contract_key = r.contract_key)
    ) f
   WHERE f.event_ts > ${TS('least($1::float8 + (f.i + 1) * $2::float8, $4::float8) - $5::float8')}`;
  }
  const perAccount = !q.allAccounts;
  const groupCols = perAccount ? 'g.underlying, g.account' : 'g.underlying';
  // $1 from (ms, aligned)  $2 bucket (ms)  $3 number of buckets  $4 to (ms)  $5 staleness bound (ms)
  // Bucket i covers [from + i·bucket, from + (i+1)·bucket) and is sampled at as_of(i) = least(its end, to).
  //  snap     every snapshot that can count somewhere: event_ts in (from - stale, to]
  //  last     per position, the newest snapshot of each bucket it falls in (k = first bucket whose
  //           as_of is at or after it; snapshots before the range land in bucket 0)
  //  seg      each of those stays the position's latest until the position's next one (next_k)
  //  opt      seg × the buckets it is latest for (generate_series), cut where it goes stale
  //           (plus, from the rollup, the fast path's rows: the same thing read from next_end)
  //  px, stk  the underlying's price per bucket (newest fresh snapshot); stock/future positions
  //  allrows  options + stock/future rows, then summed per bucket, group and broker, then per
  //           bucket and group (two hash aggregates instead of a sort for count(DISTINCT broker))
  const text = `
WITH ${pre}snap AS (
  ${snapSql}
),
last AS (
  SELECT DISTINCT ON (broker, account, contract_key, k) *
    FROM (SELECT snap.*, greatest(ceil((e - $1::float8) / $2::float8)::int - 1, 0) AS k FROM snap) x
   ORDER BY broker, account, contract_key, k, event_ts DESC, seq DESC
),
seg AS (
  SELECT last.*, lead(k, 1, $3::int) OVER (PARTITION BY broker, account, contract_key ORDER BY k) AS next_k
    FROM last
),
opt AS NOT MATERIALIZED (
  SELECT b.i, s.broker, s.account, s.contract_key, s.underlying, s.event_ts, s.seq, s.size, s.delta, s.gamma, s.theta, s.vega, s.underlying_price, s.mark
    FROM seg s
    CROSS JOIN LATERAL generate_series(
      s.k,
      least(s.next_k - 1, $3::int - 1, ceil((s.e + $5::float8 - $1::float8) / $2::float8)::int - 1)
    ) AS b(i)
   WHERE least($1::float8 + (b.i + 1) * $2::float8, $4::float8) - s.e < $5::float8${fastSql}
),
px AS (
  SELECT DISTINCT ON (i, underlying) i, underlying, underlying_price AS price
    FROM opt WHERE underlying_price IS NOT NULL
   ORDER BY i, underlying, event_ts DESC, seq DESC, broker, account, contract_key
),
stk AS (
  SELECT broker, account, contract_key, underlying,
         quantity::float8 * CASE WHEN asset_class = 'future' OR contract_key ~ '^/[A-Z0-9]{1,5}[FGHJKMNQUVXZ][0-9]{1,2}$' THEN multiplier::float8 ELSE 1 END AS size
    FROM positions
   WHERE contract_key !~ ' ' AND quantity <> 0
     AND (asset_class IN ('equity', 'future') OR contract_key ~ '^[A-Z][A-Z0-9.]{0,9}$' OR contract_key ~ '^/[A-Z0-9]{1,5}[FGHJKMNQUVXZ][0-9]{1,2}$')
     ${stockFilters}
),
allrows AS (
  SELECT i, broker, account, contract_key, underlying, size, delta, gamma, theta, vega, underlying_price, mark, false AS stock FROM opt
  UNION ALL
  SELECT px.i, k.broker, k.account, k.contract_key, k.underlying, k.size, 1::float8, NULL::float8, NULL::float8, NULL::float8, px.price, px.price, true
    FROM stk k JOIN px ON px.underlying = k.underlying
)${benchCte}${dayCte}
SELECT ($1::float8 + g.i * $2::float8) AS "bucketStart",
       ($1::float8 + (g.i + 1) * $2::float8) AS "bucketEnd",
       least($1::float8 + (g.i + 1) * $2::float8, $4::float8) AS "asOf",
       g.underlying, ${perAccount ? 'g.account' : 'NULL::text'} AS account,
       sum(g.n)::int AS positions,
       count(*)::int AS brokers,
       sum(g.delta) AS delta,
       sum(g.gamma) AS gamma,
       sum(g.theta) AS theta,
       sum(g.vega) AS vega,
       sum(g.dd) AS "dollarDelta",
       ${bwdSql} AS bwd,
       CASE WHEN sum(g.n) = sum(g.nx) THEN sum(g.sx) END AS "unrealizedPnl",
       ${daySql} AS "dayPnl",
       ${benchSql} AS "benchmarkPrice"
  FROM (
  SELECT s.i, s.underlying, ${perAccount ? 's.account, ' : ''}s.broker,
         count(*) AS n,
         sum(s.delta * s.size) AS delta,
         sum(s.gamma * s.size) AS gamma,
         sum(s.theta * s.size) AS theta,
         sum(s.vega * s.size) AS vega,
         sum(s.delta * s.size * s.underlying_price) AS dd,
         ${betaSql} AS beta,
         ${bpSql} AS bp,
         count((s.mark - p.avg_price) * s.size) AS nx,
         sum((s.mark - p.avg_price) * s.size) AS sx,
         ${dayInner}
    FROM allrows s
    LEFT JOIN positions p ON p.broker = s.broker AND p.account = s.account AND p.contract_key = s.contract_key
    ${betaJoin}
    ${dayJoin}
   GROUP BY s.i, s.underlying, ${perAccount ? 's.account, ' : ''}s.broker
  ) g
 GROUP BY g.i, ${groupCols}
 ORDER BY g.i, ${groupCols}`;
  return { text, params };
}

/** Runs the timeline in the database. Rows come back ordered by bucket, underlying, account. */
export async function riskTimeline(storage: Pick<Storage, 'query'>, q: TimelineQuery): Promise<TimelineRow[]> {
  let rollupWatermark: number | null = null;
  if (q.rollup !== false && rollupGrainFor(q.bucketMs, q.alignOffsetMs ?? 0) !== undefined) rollupWatermark = await readRollupWatermark(storage);
  const { text, params } = buildTimelineQuery({ ...q, rollupWatermark });
  const rows = await storage.query<TimelineRow>(text, params);
  // Both drivers return float8 as number and int as number; normalise anyway so callers never see strings.
  return rows.map((r) => ({
    bucketStart: Number(r.bucketStart), bucketEnd: Number(r.bucketEnd), asOf: Number(r.asOf),
    underlying: r.underlying, account: r.account ?? null,
    positions: Number(r.positions), brokers: Number(r.brokers),
    delta: num(r.delta), gamma: num(r.gamma), theta: num(r.theta), vega: num(r.vega), dollarDelta: num(r.dollarDelta),
    bwd: num(r.bwd), unrealizedPnl: num(r.unrealizedPnl), dayPnl: num(r.dayPnl), benchmarkPrice: num(r.benchmarkPrice),
  }));
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

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
  /** false: read greek_snapshots only, never the rollup (the equality tests and the bench's baseline). Default true. */
  rollup?: boolean;
  /** The rollup's watermark (epoch ms; null = never ran): riskTimeline reads it. Without it the rollup is not used. */
  rollupWatermark?: number | null;
  /** Betas and benchmark price for `bwd` (src/risk/timelineWeights.ts); without them bwd is null. */
  weights?: TimelineWeights;
}

export interface TimelineWeights {
  benchmark: string;
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
export function resolveTimelineRange(from: number, to: number, bucketMs: number): { from: number; to: number; buckets: number } {
  if (!Number.isFinite(bucketMs) || bucketMs < 1000) throw new TimelineRangeError(`bucket ${bucketMs} ms is too small: use at least 1s`);
  if (!Number.isFinite(from) || !Number.isFinite(to)) throw new TimelineRangeError('the time range is not valid');
  if (to <= from) throw new TimelineRangeError('the time range is empty: "to" must be after "from"');
  const start = Math.floor(from / bucketMs) * bucketMs;
  const buckets = Math.ceil((to - start) / bucketMs);
  if (buckets > MAX_BUCKETS) {
    throw new TimelineRangeError(`the range holds ${buckets} buckets (at most ${MAX_BUCKETS}): use a bigger bucket or a shorter range`);
  }
  return { from: start, to, buckets };
}

const TS = (p: string) => `('epoch'::timestamptz + (${p})::float8 * interval '1 millisecond')`;

/** The statement and its parameters. Pure, so the SQL text is testable without a database. */
export function buildTimelineQuery(q: TimelineQuery): { text: string; params: unknown[] } {
  const { from, to, buckets } = resolveTimelineRange(q.from, q.to, q.bucketMs);
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
  // bwd = dollar delta × β(underlying) / benchmark price; β from a (symbol, β) list joined per
  // row: an underlying without one gets NULL (never β = 1). Without weights bwd is NULL.
  let bwdSql = 'NULL::float8';
  let betaSql = 'NULL::float8';
  let betaJoin = '';
  if (q.weights) {
    params.push(q.weights.betas.map((b) => b.symbol), q.weights.betas.map((b) => b.beta), q.weights.benchmarkPrice);
    const n = params.length;
    betaSql = 'max(bt.beta)';
    bwdSql = `sum(g.dd) * max(g.beta) / nullif($${n}::float8, 0)`;
    betaJoin = `LEFT JOIN unnest($${n - 2}::text[], $${n - 1}::float8[]) AS bt(symbol, beta) ON bt.symbol = s.underlying`;
  }
  const perAccount = !q.allAccounts;
  const groupColsG = perAccount ? 'g.underlying, g.account' : 'g.underlying';
  // $1 from (ms, aligned)  $2 bucket (ms)  $3 number of buckets  $4 to (ms)  $5 staleness bound (ms)
  // Bucket i covers [from + i·bucket, from + (i+1)·bucket) and is sampled at as_of(i) = least(its end, to).
  //  snap     every snapshot that can count somewhere: event_ts in (from - stale, to]
  //  last     per position, the newest snapshot of each bucket it falls in (k = first bucket whose
  //           as_of is at or after it; snapshots before the range land in bucket 0)
  //  seg      each of those stays the position's latest until the position's next one (next_k)
  //  result   seg × the buckets it is latest for (generate_series), cut where it goes stale, summed
  // One pass over the range's rows and one sort, instead of one index probe per bucket × position.
  const and = filters.map((f) => `AND ${f}`).join(' ');
  const RAW_COLS = `broker, account, contract_key, underlying, event_ts, seq,
         (extract(epoch FROM event_ts) * 1000)::float8 AS e,
         quantity::float8 * multiplier::float8 AS size, delta, gamma, theta, vega, underlying_price,
         coalesce(mark, CASE WHEN bid IS NOT NULL AND ask IS NOT NULL AND ask >= bid AND bid >= 0 THEN (bid + ask) / 2 END) AS mark`;
  // With a bucket of whole minutes or hours the snapshots come from greek_rollup (the newest of
  // each position per grain, src/db/rollup.ts) up to the last whole grain before "to", plus the
  // raw rows after it and the raw rows the rollup job has not seen yet (persisted after its
  // watermark − margin). The newest-per-bucket step below makes the union equal to the raw rows.
  // The rollup is used only once it has run (rollupWatermark given, riskTimeline reads it).
  const grainMs = q.rollup === false || q.rollupWatermark === undefined || q.rollupWatermark === null ? undefined : rollupGrainFor(q.bucketMs);
  let snapSql: string;
  if (grainMs === undefined) {
    snapSql = `SELECT ${RAW_COLS}
    FROM greek_snapshots
   WHERE event_ts > ${TS('$1::float8 - $5::float8')} AND event_ts <= ${TS('$4::float8')}
     ${and}`;
  } else {
    // The watermark as a value (not a subquery), so the planner sees how few raw rows are newer
    // and reads them through the BRIN index instead of scanning the day.
    params.push(Math.floor(to / grainMs) * grainMs, grainMs / 1000, q.rollupWatermark! - ROLLUP_MARGIN_MS);
    const cut = `$${params.length - 2}::float8`;
    const grain = `$${params.length - 1}::int`;
    const unrolled = `$${params.length}::float8`;
    snapSql = `SELECT broker, account, contract_key, underlying, event_ts, seq, (extract(epoch FROM event_ts) * 1000)::float8 AS e,
         size, delta, gamma, theta, vega, underlying_price, mark
    FROM greek_rollup
   WHERE grain_s = ${grain} AND bucket_end > ${TS('$1::float8 - $5::float8')} AND bucket_end <= ${TS(cut)}
     AND event_ts > ${TS('$1::float8 - $5::float8')} ${and}
  UNION ALL
  SELECT ${RAW_COLS}
    FROM greek_snapshots
   WHERE event_ts > ${TS(`greatest($1::float8 - $5::float8, ${cut})`)} AND event_ts <= ${TS('$4::float8')} ${and}
  UNION ALL
  SELECT ${RAW_COLS}
    FROM greek_snapshots
   WHERE event_ts > ${TS('$1::float8 - $5::float8')} AND event_ts <= ${TS(cut)} ${and}
     AND persisted_at > ${TS(unrolled)}`;
  }
  const text = `
WITH snap AS (
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
)
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
       CASE WHEN sum(g.n) = sum(g.nx) THEN sum(g.sx) END AS "unrealizedPnl"
  FROM (
  -- per broker first, then per row: two hash aggregates instead of a sort for count(DISTINCT broker)
  SELECT b.i, s.underlying, s.account, s.broker,
         count(*) AS n,
         sum(s.delta * s.size) AS delta,
         sum(s.gamma * s.size) AS gamma,
         sum(s.theta * s.size) AS theta,
         sum(s.vega * s.size) AS vega,
         sum(s.delta * s.size * s.underlying_price) AS dd,
         ${betaSql} AS beta,
         count((s.mark - p.avg_price) * s.size) AS nx,
         sum((s.mark - p.avg_price) * s.size) AS sx
    FROM seg s
    LEFT JOIN positions p ON p.broker = s.broker AND p.account = s.account AND p.contract_key = s.contract_key
    ${betaJoin}
    CROSS JOIN LATERAL generate_series(
      s.k,
      least(s.next_k - 1, $3::int - 1, ceil((s.e + $5::float8 - $1::float8) / $2::float8)::int - 1)
    ) AS b(i)
   WHERE least($1::float8 + (b.i + 1) * $2::float8, $4::float8) - s.e < $5::float8
   GROUP BY b.i, s.underlying, s.account, s.broker
  ) g
 GROUP BY g.i, ${groupColsG}
 ORDER BY g.i, ${groupColsG}`;
  return { text, params };
}

/** Runs the timeline in the database. Rows come back ordered by bucket, underlying, account. */
export async function riskTimeline(storage: Pick<Storage, 'query'>, q: TimelineQuery): Promise<TimelineRow[]> {
  let rollupWatermark: number | null = null;
  if (q.rollup !== false && rollupGrainFor(q.bucketMs) !== undefined) rollupWatermark = await readRollupWatermark(storage);
  const { text, params } = buildTimelineQuery({ ...q, rollupWatermark });
  const rows = await storage.query<TimelineRow>(text, params);
  // Both drivers return float8 as number and int as number; normalise anyway so callers never see strings.
  return rows.map((r) => ({
    bucketStart: Number(r.bucketStart), bucketEnd: Number(r.bucketEnd), asOf: Number(r.asOf),
    underlying: r.underlying, account: r.account ?? null,
    positions: Number(r.positions), brokers: Number(r.brokers),
    delta: num(r.delta), gamma: num(r.gamma), theta: num(r.theta), vega: num(r.vega), dollarDelta: num(r.dollarDelta),
    bwd: num(r.bwd), unrealizedPnl: num(r.unrealizedPnl),
  }));
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

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
 */
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
}

/** Buckets per query at most: the query does (buckets × positions) index lookups. */
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
const MS = (col: string) => `(extract(epoch FROM ${col}) * 1000)::float8`;

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
  const perAccount = !q.allAccounts;
  const accountCol = perAccount ? 'h.account' : 'NULL::text';
  // held: every position with a snapshot that could count in some bucket. The LATERAL then picks,
  // per (bucket, position), the newest snapshot at or before the bucket's sampling instant and
  // inside the staleness bound, through the primary key (broker, account, contract_key, event_ts, seq).
  const text = `
WITH buckets AS (
  SELECT i,
         ${TS('$1::float8 + i * $2::float8')} AS bucket_start,
         ${TS('$1::float8 + (i + 1) * $2::float8')} AS bucket_end,
         ${TS('least($1::float8 + (i + 1) * $2::float8, $4::float8)')} AS as_of
    FROM generate_series(0, $3::int - 1) AS i
),
held AS (
  SELECT DISTINCT broker, account, contract_key
    FROM greek_snapshots
   WHERE event_ts > ${TS('$1::float8 - $5::float8')} AND event_ts <= ${TS('$4')}
     ${filters.map((f) => `AND ${f}`).join(' ')}
)
SELECT ${MS('b.bucket_start')} AS "bucketStart", ${MS('b.bucket_end')} AS "bucketEnd", ${MS('b.as_of')} AS "asOf",
       s.underlying, ${accountCol} AS account,
       count(*)::int AS positions,
       count(DISTINCT h.broker)::int AS brokers,
       sum(s.delta * s.size) AS delta,
       sum(s.gamma * s.size) AS gamma,
       sum(s.theta * s.size) AS theta,
       sum(s.vega * s.size) AS vega,
       sum(s.delta * s.size * s.underlying_price) AS "dollarDelta"
  FROM buckets b
  CROSS JOIN held h
  CROSS JOIN LATERAL (
    SELECT g.underlying, g.quantity::float8 * g.multiplier::float8 AS size,
           g.delta, g.gamma, g.theta, g.vega, g.underlying_price
      FROM greek_snapshots g
     WHERE g.broker = h.broker AND g.account = h.account AND g.contract_key = h.contract_key
       AND g.event_ts <= b.as_of
       AND g.event_ts > b.as_of - $5::float8 * interval '1 millisecond'
     ORDER BY g.event_ts DESC, g.seq DESC
     LIMIT 1
  ) s
 GROUP BY b.i, b.bucket_start, b.bucket_end, b.as_of, s.underlying${perAccount ? ', h.account' : ''}
 ORDER BY b.i, s.underlying${perAccount ? ', h.account' : ''}`;
  return { text, params };
}

/** Runs the timeline in the database. Rows come back ordered by bucket, underlying, account. */
export async function riskTimeline(storage: Pick<Storage, 'query'>, q: TimelineQuery): Promise<TimelineRow[]> {
  const { text, params } = buildTimelineQuery(q);
  const rows = await storage.query<TimelineRow>(text, params);
  // Both drivers return float8 as number and int as number; normalise anyway so callers never see strings.
  return rows.map((r) => ({
    bucketStart: Number(r.bucketStart), bucketEnd: Number(r.bucketEnd), asOf: Number(r.asOf),
    underlying: r.underlying, account: r.account ?? null,
    positions: Number(r.positions), brokers: Number(r.brokers),
    delta: num(r.delta), gamma: num(r.gamma), theta: num(r.theta), vega: num(r.vega), dollarDelta: num(r.dollarDelta),
  }));
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

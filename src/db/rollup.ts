/**
 * The history rollup (migration 0004, specs/history.md): greek_rollup holds the newest snapshot
 * of each position per minute (grain 60) and per hour (grain 3600), keyed by the bucket's end.
 * A timeline whose bucket is a whole number of grains reads these rows instead of every
 * snapshot (src/db/timeline.ts) and gets the same numbers: it only ever uses the newest
 * snapshot of a position at or before each bucket's end.
 *
 * Maintenance is incremental and idempotent: rollupIncremental() re-reads the snapshots
 * persisted since the watermark (minus ROLLUP_MARGIN_MS, for transactions that were still open
 * when the last run started) and upserts keeping the newest; the timeline reads those
 * not-yet-rolled rows from greek_snapshots itself, so a late or skipped run costs time, never
 * correctness. rollupRange() builds a range of event time in one go (the history generator).
 * Every run also relinks the positions it wrote (next_end, migration 0008, D81): each row names
 * the bucket_end of the position's next row, so the timeline knows how long a row stays the
 * position's latest without sorting the range by position.
 */
import type { SqlSession } from './driver.js';

/** The grains kept, in seconds. */
export const ROLLUP_GRAINS_S = [60, 3600] as const;

/** Rows persisted this long before the last run's start are taken as rolled up. */
export const ROLLUP_MARGIN_MS = 5 * 60_000;

/** How often the writer's maintenance timer runs the incremental rollup. */
export const ROLLUP_INTERVAL_MS = 60_000;

/** Serialises rollup runs across processes (a second one skips, it would only repeat the work). */
export const ROLLUP_LOCK_KEY = 7263510004;

const TS = (p: string) => `('epoch'::timestamptz + (${p})::float8 * interval '1 millisecond')`;

/**
 * The grain (ms) a timeline bucket can be served from, or undefined (raw rows only): a grain that
 * divides the bucket and the edges' offset (--tz: a +05:30 zone cannot use the hour grain).
 */
export function rollupGrainFor(bucketMs: number, offsetMs = 0): number | undefined {
  for (const g of [...ROLLUP_GRAINS_S].reverse()) if (bucketMs % (g * 1000) === 0 && offsetMs % (g * 1000) === 0) return g * 1000;
  return undefined;
}

const COLS = 'grain_s, broker, account, contract_key, bucket_end, underlying, event_ts, seq, size, delta, gamma, theta, vega, underlying_price, mark';

/**
 * Upsert of grain `grainS` from `source` ('raw': greek_snapshots, 'minute': the grain-60 rows)
 * restricted by `where` (on the source's columns). Keeps the newer of the stored and new row.
 */
export function rollupUpsertSql(grainS: number, source: 'raw' | 'minute', where: string): string {
  const bucketEnd = `to_timestamp(ceil(extract(epoch FROM event_ts) / ${grainS}) * ${grainS})`;
  const select = source === 'raw'
    ? `SELECT DISTINCT ON (broker, account, contract_key, 5) ${grainS}, broker, account, contract_key, ${bucketEnd}, underlying, event_ts, seq,
              quantity::float8 * multiplier::float8, delta, gamma, theta, vega, underlying_price,
              coalesce(mark, CASE WHEN bid IS NOT NULL AND ask IS NOT NULL AND ask >= bid AND bid >= 0 THEN (bid + ask) / 2 END)
         FROM greek_snapshots WHERE ${where}
        ORDER BY broker, account, contract_key, 5, event_ts DESC, seq DESC`
    : `SELECT DISTINCT ON (broker, account, contract_key, 5) ${grainS}, broker, account, contract_key, ${bucketEnd}, underlying, event_ts, seq,
              size, delta, gamma, theta, vega, underlying_price, mark
         FROM greek_rollup WHERE grain_s = 60 AND ${where}
        ORDER BY broker, account, contract_key, 5, event_ts DESC, seq DESC`;
  // next_end from the batch itself (lead over the position's rows in it): a new row is written
  // linked, so the relink below only touches the row before the batch and the rows whose next one
  // came in a later batch. Without it every new row was written twice (insert, then the relink's
  // update): a first build over a month left as many dead rows as live ones, and a day's timeline
  // scanned both (index entries 217,272 for 124,801 rows; D99).
  return `INSERT INTO greek_rollup (${COLS}, next_end)
SELECT b.*, lead(b.bucket_end) OVER (PARTITION BY b.broker, b.account, b.contract_key ORDER BY b.bucket_end)
  FROM (${select}) AS b(${COLS})
ON CONFLICT (grain_s, broker, account, contract_key, bucket_end) DO UPDATE SET
  underlying = excluded.underlying, event_ts = excluded.event_ts, seq = excluded.seq, size = excluded.size,
  delta = excluded.delta, gamma = excluded.gamma, theta = excluded.theta, vega = excluded.vega,
  underlying_price = excluded.underlying_price, mark = excluded.mark
WHERE (greek_rollup.event_ts, greek_rollup.seq) < (excluded.event_ts, excluded.seq)`;
}

/**
 * Relinks the rows of the given positions at grain `grainS` (D81): next_end = the bucket_end of the
 * position's next row, from the row before `lo` (the earliest row the run wrote) onwards.
 * $1 brokers, $2 accounts, $3 contract keys, $4 lo (epoch ms), one entry per position.
 */
export function relinkSql(grainS: number): string {
  const pos = (a: string, b: string) => `${a}.grain_s = ${grainS} AND ${a}.broker = ${b}.broker AND ${a}.account = ${b}.account AND ${a}.contract_key = ${b}.contract_key`;
  return `UPDATE greek_rollup r SET next_end = x.nx
  FROM (SELECT q.broker, q.account, q.contract_key, q.bucket_end,
               lead(q.bucket_end) OVER (PARTITION BY q.broker, q.account, q.contract_key ORDER BY q.bucket_end) AS nx
          FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS t(broker, account, contract_key, lo)
          CROSS JOIN LATERAL (SELECT coalesce(max(p.bucket_end), ${TS('t.lo')}) AS start FROM greek_rollup p
                               WHERE ${pos('p', 't')} AND p.bucket_end < ${TS('t.lo')}) s
          JOIN greek_rollup q ON ${pos('q', 't')} AND q.bucket_end >= s.start) x
 WHERE ${pos('r', 'x')} AND r.bucket_end = x.bucket_end AND r.next_end IS DISTINCT FROM x.nx`;
}

/** One upsert (rollupUpsertSql) and the relink of the positions it wrote; returns the rows upserted and relinked. */
async function applyRollup(db: SqlSession, grainS: number, source: 'raw' | 'minute', where: string, params: unknown[]): Promise<{ rows: number; relinked: number }> {
  const touched = await db.query<{ broker: string; account: string; contract_key: string; lo: number; n: number }>(
    `WITH up AS (${rollupUpsertSql(grainS, source, where)}
RETURNING broker, account, contract_key, bucket_end)
SELECT broker, account, contract_key, (extract(epoch FROM min(bucket_end)) * 1000)::float8 AS lo, count(*)::int AS n FROM up GROUP BY 1, 2, 3`,
    params,
  );
  let relinked = 0;
  if (touched.length > 0) {
    relinked = await db.execute(relinkSql(grainS), [touched.map((t) => t.broker), touched.map((t) => t.account), touched.map((t) => t.contract_key), touched.map((t) => Number(t.lo))]);
  }
  return { rows: touched.reduce((n, t) => n + Number(t.n), 0), relinked };
}

export interface RollupRun {
  /** false: another process was running it (skipped). */
  ran: boolean;
  /** rows upserted per grain */
  rows: Record<number, number>;
  /** rows whose next_end the relink had to change afterwards, per grain (rows already written linked are not counted) */
  relinked: Record<number, number>;
  /** the new watermark, epoch ms */
  watermark: number | null;
}

interface TxCapable extends SqlSession {
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
}

/**
 * Rolls up every snapshot persisted after (watermark − margin), then moves the watermark to the
 * run's start. Idempotent; one run at a time across processes (advisory lock, others skip).
 */
export async function rollupIncremental(db: TxCapable): Promise<RollupRun> {
  return db.transaction(async (tx) => {
    const [lock] = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [ROLLUP_LOCK_KEY]);
    if (!lock?.ok) return { ran: false, rows: {}, relinked: {}, watermark: null };
    const [st] = await tx.query<{ start: number; since: number | null }>(
      `SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS start,
              CASE WHEN watermark = '-infinity' THEN NULL ELSE (extract(epoch FROM watermark) * 1000)::float8 - $1::float8 END AS since
         FROM greek_rollup_state WHERE id = 1`,
      [ROLLUP_MARGIN_MS],
    );
    const since = st?.since === null || st?.since === undefined ? null : Number(st.since);
    const rows: Record<number, number> = { 60: 0, 3600: 0 };
    const relinked: Record<number, number> = { 60: 0, 3600: 0 };
    if (since === null) {
      // First run over existing history: one day partition per statement (each stays well
      // inside the statement timeout on a month of a big book).
      const parts = await tx.query<{ name: string }>(
        `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
          WHERE i.inhparent = 'greek_snapshots'::regclass AND c.relname ~ '^greek_snapshots_p[0-9]{8}$' ORDER BY 1`,
      );
      for (const { name } of parts) {
        const d = name.slice(-8);
        const day = Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8)));
        const r = await rollupRange(tx, day, day + 86_400_000);
        for (const g of ROLLUP_GRAINS_S) {
          rows[g] += r.rows[g];
          relinked[g] += r.relinked[g];
        }
      }
    } else {
      for (const g of ROLLUP_GRAINS_S) ({ rows: rows[g], relinked: relinked[g] } = await applyRollup(tx, g, 'raw', `persisted_at > ${TS('$1')}`, [since]));
    }
    const start = Number(st?.start);
    await tx.query(`INSERT INTO greek_rollup_state (id, watermark, updated_at) VALUES (1, ${TS('$1')}, clock_timestamp())
      ON CONFLICT (id) DO UPDATE SET watermark = greatest(greek_rollup_state.watermark, excluded.watermark), updated_at = excluded.updated_at`, [start]);
    return { ran: true, rows, relinked, watermark: start };
  });
}

/**
 * Builds the rollup of the snapshots with event_ts in [fromMs, toMs) (minute from the raw rows,
 * hour from the minute rows). Does not move the watermark: use it for data loaded with
 * persisted_at in the past (the history generator), then let rollupIncremental() take over.
 */
export async function rollupRange(db: SqlSession, fromMs: number, toMs: number): Promise<{ rows: Record<number, number>; relinked: Record<number, number> }> {
  const minute = await applyRollup(db, 60, 'raw', `event_ts >= ${TS('$1')} AND event_ts < ${TS('$2')}`, [fromMs, toMs]);
  // hour buckets touching the range: from the minute rows of whole hours around it
  // (the hour ending exactly at fromMs holds a snapshot at fromMs, which this range rolled up)
  const h0 = Math.floor(fromMs / 3_600_000) * 3_600_000 - 3_600_000;
  const h1 = Math.ceil(toMs / 3_600_000) * 3_600_000 + 3_600_000;
  const hour = await applyRollup(db, 3600, 'minute', `bucket_end > ${TS('$1')} AND bucket_end <= ${TS('$2')}`, [h0, h1]);
  return { rows: { 60: minute.rows, 3600: hour.rows }, relinked: { 60: minute.relinked, 3600: hour.relinked } };
}

/** Sets the watermark (after rollupRange over everything there is). */
export async function setRollupWatermark(db: SqlSession, atMs: number): Promise<void> {
  await db.query(`UPDATE greek_rollup_state SET watermark = ${TS('$1')}, updated_at = clock_timestamp() WHERE id = 1`, [atMs]);
}

/**
 * Retention: the rollup rows made from snapshots of dropped days (event_ts before the day of
 * `dayStartMs`) go with them, so rollup and raw rows still agree.
 */
export async function dropRollupBefore(db: SqlSession, dayStartMs: number): Promise<number> {
  return db.execute(`DELETE FROM greek_rollup WHERE bucket_end < ${TS('$1::float8 + 3600000')} AND event_ts < ${TS('$1')}`, [dayStartMs]);
}

/** The watermark (epoch ms), or null while the rollup has never run. */
export async function readRollupWatermark(db: Pick<SqlSession, 'query'>): Promise<number | null> {
  const [r] = await db.query<{ w: number | null }>(`SELECT CASE WHEN watermark = '-infinity' THEN NULL ELSE (extract(epoch FROM watermark) * 1000)::float8 END AS w FROM greek_rollup_state WHERE id = 1`);
  return r?.w === null || r?.w === undefined ? null : Number(r.w);
}

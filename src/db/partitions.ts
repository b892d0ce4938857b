/**
 * Daily partitions of greek_snapshots. The day arithmetic is pure (tested without a database);
 * creation is one call of riskwire_ensure_day_partitions (migration 0001), which serialises
 * concurrent creators with an advisory lock.
 */
import type { SqlSession } from './driver.js';

const DAY_MS = 86_400_000;

/** 'YYYY-MM-DD' of the UTC day containing ms. */
export function utcDay(ms: number): string {
  return new Date(Math.floor(ms / DAY_MS) * DAY_MS).toISOString().slice(0, 10);
}

/** greek_snapshots_pYYYYMMDD: the partition holding event_ts = ms. */
export function partitionName(ms: number): string {
  return `greek_snapshots_p${utcDay(ms).replaceAll('-', '')}`;
}

/** The days made ahead at start: yesterday through seven days ahead (UTC). */
export function daysAround(ms: number, before = 1, after = 7): string[] {
  const days: string[] = [];
  for (let i = -before; i <= after; i++) days.push(utcDay(ms + i * DAY_MS));
  return days;
}

/** The distinct UTC days of a set of timestamps, sorted (for create-on-demand after a missing-partition error). */
export function distinctDays(times: Iterable<number>): string[] {
  const days = new Set<string>();
  for (const t of times) days.add(utcDay(t));
  return [...days].sort();
}

/** Creates the missing partitions of `days`; returns how many were created. */
export async function ensureDayPartitions(db: SqlSession, days: string[]): Promise<number> {
  if (days.length === 0) return 0;
  const [row] = await db.query<{ made: number }>('SELECT riskwire_ensure_day_partitions($1::date[]) AS made', [days]);
  return Number(row?.made ?? 0);
}

/** Partitions whose whole day ends before `beforeMs` (for retention: DROP TABLE them). */
export async function partitionsOlderThan(db: SqlSession, beforeMs: number): Promise<string[]> {
  const cutoff = partitionName(beforeMs);
  const rows = await db.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'greek_snapshots'::regclass AND c.relname ~ '^greek_snapshots_p[0-9]{8}$'
      ORDER BY c.relname`,
  );
  // Names sort like dates, so a string comparison is a date comparison.
  return rows.map((r) => r.name).filter((n) => n < cutoff);
}

/** Retention: drops the daily partitions older than the day of `beforeMs`; returns their names. */
export async function dropPartitionsOlderThan(db: SqlSession, beforeMs: number): Promise<string[]> {
  const names = await partitionsOlderThan(db, beforeMs);
  // Names come from the catalog and match ^greek_snapshots_p[0-9]{8}$, so quoting them is enough.
  for (const name of names) await db.query(`DROP TABLE IF EXISTS "${name}"`);
  return names;
}

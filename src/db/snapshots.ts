/**
 * greek_snapshots SQL: the batch insert (one statement per batch, every column passed as one
 * array parameter and zipped back into rows by unnest) and the read queries. The mapping from
 * GreekSnapshot to column arrays and the filter-to-WHERE translation are pure functions.
 */
import { finiteOrNull, type GreekSnapshot } from '../core/types.js';
import type { SnapshotFilter } from './types.js';
import { StorageError } from './errors.js';

/** epoch ms (float8) → timestamptz, exact to the microsecond for any realistic ms value. */
const TS = (col: string) => `'epoch'::timestamptz + ${col} * interval '1 millisecond'`;
/** timestamptz → epoch ms as a JS number (float8, not bigint, so both drivers return a number). */
const MS = (col: string) => `(extract(epoch FROM ${col}) * 1000)::float8`;

/**
 * One statement per batch; the inserted count comes from the command tag (not RETURNING, which
 * materialises a row per insert and cost 10-25% of the write rate in an A/B on this machine).
 */
export const SNAPSHOT_INSERT_SQL = `
INSERT INTO greek_snapshots (broker, account, contract_key, underlying, event_ts, seq, received_at,
  quantity, multiplier, bid, ask, mark, underlying_price, iv, delta, gamma, theta, vega, rho)
SELECT b, a, k, u, ${TS('e')}, s, ${TS('r')}, q, m, bid, ask, mark, up, iv, de, ga, th, ve, rh
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::int8[], $7::float8[],
              $8::numeric[], $9::numeric[], $10::float8[], $11::float8[], $12::float8[], $13::float8[],
              $14::float8[], $15::float8[], $16::float8[], $17::float8[], $18::float8[], $19::float8[])
    AS t(b, a, k, u, e, s, r, q, m, bid, ask, mark, up, iv, de, ga, th, ve, rh)
ON CONFLICT DO NOTHING`;

const REQUIRED_NUMBERS = ['eventTs', 'seq', 'receivedAt', 'quantity', 'multiplier'] as const;
const REQUIRED_TEXT = ['broker', 'account', 'contractKey', 'underlying'] as const;

/**
 * Rejects a batch with a row that cannot be stored truthfully (no key, no time, no size). These
 * come from our own processor, not the wire, so it is a bug worth a permanent error, not a null.
 */
export function validateSnapshots(rows: GreekSnapshot[]): void {
  rows.forEach((row, i) => {
    for (const f of REQUIRED_TEXT) {
      if (typeof row[f] !== 'string' || row[f] === '') throw invalidRow(i, f, row[f]);
    }
    for (const f of REQUIRED_NUMBERS) {
      if (!Number.isFinite(row[f])) throw invalidRow(i, f, row[f]);
    }
  });
}

const invalidRow = (i: number, field: string, value: unknown) =>
  new StorageError(`writeSnapshots: row ${i} has an invalid ${field} (${String(value)}); the batch was not written`, false, 'INVALID_ROW');

/**
 * Column arrays in the parameter order of SNAPSHOT_INSERT_SQL, each already rendered as a
 * PostgreSQL array literal ('{a,b,NULL}'); NaN/±Infinity become NULL. Rendering the literal
 * ourselves (one join per column) costs about half the client CPU of letting the driver escape
 * every element, and the server parses the same text either way (see specs/performance.md).
 */
export function snapshotParams(rows: GreekSnapshot[]): string[] {
  const text = (f: (r: GreekSnapshot) => string) => arrayLiteral(rows.map((r) => quoteElement(f(r))));
  const int = (f: (r: GreekSnapshot) => number) => arrayLiteral(rows.map((r) => String(f(r))));
  const num = (f: (r: GreekSnapshot) => number | null | undefined) =>
    arrayLiteral(rows.map((r) => {
      const v = finiteOrNull(f(r));
      return v === null ? 'NULL' : String(v);
    }));
  return [
    text((r) => r.broker), text((r) => r.account), text((r) => r.contractKey), text((r) => r.underlying),
    int((r) => r.eventTs), int((r) => Math.trunc(r.seq)), int((r) => r.receivedAt),
    int((r) => r.quantity), int((r) => r.multiplier),
    num((r) => r.bid), num((r) => r.ask), num((r) => r.mark), num((r) => r.underlyingPrice),
    num((r) => r.iv), num((r) => r.delta), num((r) => r.gamma), num((r) => r.theta), num((r) => r.vega), num((r) => r.rho),
  ];
}

const arrayLiteral = (elements: string[]) => `{${elements.join(',')}}`;

/** An array element: quoted (with \\ and \" escaped) unless it is plainly safe. */
export function quoteElement(s: string): string {
  return /^[A-Za-z0-9_.:\-+/]+$/.test(s) && s.toUpperCase() !== 'NULL' ? s : `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

/** The select list that yields SnapshotRecord objects directly (camelCase keys, numbers, epoch ms). */
export const SNAPSHOT_COLUMNS = `broker, account, contract_key AS "contractKey", underlying,
  ${MS('event_ts')} AS "eventTs", seq::float8 AS seq, ${MS('received_at')} AS "receivedAt",
  ${MS('persisted_at')} AS "persistedAt", quantity::float8 AS quantity, multiplier::float8 AS multiplier,
  bid, ask, mark, underlying_price AS "underlyingPrice", iv, delta, gamma, theta, vega, rho`;

export const MAX_LIMIT = 10_000;
export const DEFAULT_LIMIT = 100;

export interface BuiltQuery {
  text: string;
  params: unknown[];
}

/** WHERE clause over the filter's set fields; `from` inclusive, `to` exclusive. */
export function snapshotWhere(filter: Omit<SnapshotFilter, 'limit'>, params: unknown[]): string {
  const conds: string[] = [];
  const add = (sqlFor: (p: string) => string, value: unknown) => {
    params.push(value);
    conds.push(sqlFor(`$${params.length}`));
  };
  if (filter.broker !== undefined) add((p) => `broker = ${p}`, filter.broker);
  if (filter.account !== undefined) add((p) => `account = ${p}`, filter.account);
  if (filter.contractKey !== undefined) add((p) => `contract_key = ${p}`, filter.contractKey);
  if (filter.underlying !== undefined) add((p) => `underlying = ${p}`, filter.underlying);
  if (filter.from !== undefined) add((p) => `event_ts >= ${TS(`${p}::float8`)}`, filter.from);
  if (filter.to !== undefined) add((p) => `event_ts < ${TS(`${p}::float8`)}`, filter.to);
  return conds.length ? `WHERE ${conds.join(' AND ')}` : '';
}

export function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_LIMIT;
  return Math.min(MAX_LIMIT, Math.max(1, Math.trunc(limit)));
}

/** One row per (broker, account, contract_key): the newest by event_ts, then seq. */
export function buildLatestQuery(filter: Omit<SnapshotFilter, 'limit' | 'from'>): BuiltQuery {
  const params: unknown[] = [];
  const where = snapshotWhere(filter, params);
  return {
    text: `SELECT * FROM (
        SELECT DISTINCT ON (broker, account, contract_key) ${SNAPSHOT_COLUMNS} FROM greek_snapshots ${where}
         ORDER BY broker, account, contract_key, event_ts DESC, seq DESC
      ) latest ORDER BY underlying, "contractKey", broker, account`,
    params,
  };
}

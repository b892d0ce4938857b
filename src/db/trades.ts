/** trades SQL: idempotent batch insert per (broker, trade_id) and the filtered listing. */
import type { TradeRow } from '../core/types.js';
import type { TradeFilter } from './types.js';
import { StorageError } from './errors.js';
import { clampLimit } from './snapshots.js';

const TS = (p: string) => `'epoch'::timestamptz + ${p}::float8 * interval '1 millisecond'`;

export const TRADES_INSERT_SQL = `
WITH ins AS (
  INSERT INTO trades (broker, account, trade_id, contract_key, side, quantity, price, executed_at, source)
  SELECT b, a, id, k, sd, q, p, ${TS('x')}, src
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::float8[], $8::float8[], $9::text[])
      AS t(b, a, id, k, sd, q, p, x, src)
  ON CONFLICT (broker, trade_id) DO NOTHING
  RETURNING 1
)
SELECT count(*)::int AS inserted FROM ins`;

export function validateTrades(rows: TradeRow[]): void {
  rows.forEach((t, i) => {
    const bad = (what: string) => new StorageError(`writeTrades: trade ${i} (${t.tradeId}) has an invalid ${what}; the batch was not written`, false, 'INVALID_ROW');
    if (!t.broker || !t.account || !t.tradeId || !t.contractKey) throw bad('key');
    if (t.side !== 'buy' && t.side !== 'sell') throw bad('side');
    for (const f of ['quantity', 'price', 'executedAt'] as const) if (!Number.isFinite(t[f])) throw bad(f);
  });
}

/** Parameters of TRADES_INSERT_SQL. A trade id repeated inside one batch is sent once (first wins). */
export function tradeParams(rows: TradeRow[]): { params: unknown[]; repeats: number } {
  const seen = new Map<string, TradeRow>();
  for (const t of rows) {
    const key = `${t.broker}\u0000${t.tradeId}`;
    if (!seen.has(key)) seen.set(key, t);
  }
  const uniq = [...seen.values()];
  const col = <T>(f: (t: TradeRow) => T) => uniq.map(f);
  return {
    params: [
      col((t) => t.broker), col((t) => t.account), col((t) => t.tradeId), col((t) => t.contractKey), col((t) => t.side),
      col((t) => t.quantity), col((t) => t.price), col((t) => t.executedAt), col((t) => t.source),
    ],
    repeats: rows.length - uniq.length,
  };
}

export function buildTradesQuery(filter: TradeFilter) {
  const params: unknown[] = [];
  const conds: string[] = [];
  const add = (cond: (p: string) => string, v: unknown) => {
    params.push(v);
    conds.push(cond(`$${params.length}`));
  };
  if (filter.broker !== undefined) add((p) => `broker = ${p}`, filter.broker);
  if (filter.account !== undefined) add((p) => `account = ${p}`, filter.account);
  if (filter.contractKey !== undefined) add((p) => `contract_key = ${p}`, filter.contractKey);
  if (filter.from !== undefined) add((p) => `executed_at >= ${TS(p)}`, filter.from);
  if (filter.to !== undefined) add((p) => `executed_at < ${TS(p)}`, filter.to);
  params.push(clampLimit(filter.limit));
  return {
    text: `SELECT broker, account, trade_id AS "tradeId", contract_key AS "contractKey", side, quantity::float8 AS quantity,
        price, (extract(epoch FROM executed_at) * 1000)::float8 AS "executedAt", source
      FROM trades ${conds.length ? `WHERE ${conds.join(' AND ')}` : ''}
      ORDER BY executed_at DESC, broker, trade_id LIMIT $${params.length}`,
    params,
  };
}

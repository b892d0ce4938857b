/** trades SQL: idempotent batch insert per (broker, trade_id) and the filtered listing. */
import type { TradeRow } from '../core/types.js';
import { StorageError } from './errors.js';

const TS = (p: string) => `'epoch'::timestamptz + ${p}::float8 * interval '1 millisecond'`;

export const TRADES_INSERT_SQL = `
WITH ins AS (
  INSERT INTO trades (broker, account, trade_id, contract_key, side, quantity, price, executed_at, source, fees)
  SELECT b, a, id, k, sd, q, p, ${TS('x')}, src, f
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::numeric[], $7::float8[], $8::float8[], $9::text[], $10::float8[])
      AS t(b, a, id, k, sd, q, p, x, src, f)
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
    if (t.fees !== undefined && t.fees !== null && !Number.isFinite(t.fees)) throw bad('fees');
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
      col((t) => t.quantity), col((t) => t.price), col((t) => t.executedAt), col((t) => t.source), col((t) => t.fees ?? null),
    ],
    repeats: rows.length - uniq.length,
  };
}

/**
 * The reads the risk engine needs, as SQL (each one statement, indexed):
 *   - the newest snapshot of each open position (positions ⋈ LATERAL newest greek_snapshots row,
 *     by the primary key), so cost grows with positions, not with history;
 *   - the newest underlying price per symbol (index on (underlying, event_ts));
 *   - closing marks: materialised once per session day from the last snapshot at or before the
 *     16:00 New York close (closing_marks), and the first mark since that close as a fallback;
 *   - betas from market_metrics when that table exists (another issue adds it).
 */
import type { ContractMarket } from '../risk/types.js';
import type { Storage } from './types.js';

type Q = Pick<Storage, 'query'>;
const TS = (p: string) => `('epoch'::timestamptz + (${p})::float8 * interval '1 millisecond')`;
const MS = (c: string) => `(extract(epoch FROM ${c}) * 1000)::float8`;

export type LatestRow = { broker: string; account: string; contractKey: string } & Omit<ContractMarket, 'last'>;

/** The newest snapshot of every open position (positions without any snapshot are absent). */
export async function latestForPositions(db: Q): Promise<LatestRow[]> {
  return db.query<LatestRow>(`
    SELECT p.broker, p.account, p.contract_key AS "contractKey", s.bid, s.ask, s.mark, s.underlying_price AS "underlyingPrice",
           s.iv, s.delta, s.gamma, s.theta, s.vega, ${MS('s.event_ts')} AS "eventTs"
      FROM positions p
      CROSS JOIN LATERAL (
        SELECT * FROM greek_snapshots g
         WHERE g.broker = p.broker AND g.account = p.account AND g.contract_key = p.contract_key
         ORDER BY g.event_ts DESC, g.seq DESC LIMIT 1
      ) s`);
}

/** The newest known underlying price of each symbol. */
export async function latestUnderlyingPrices(db: Q, symbols: string[]): Promise<{ symbol: string; price: number; at: number }[]> {
  if (symbols.length === 0) return [];
  const rows = await db.query<{ symbol: string; price: number; at: number }>(`
    SELECT u.symbol, s.underlying_price AS price, ${MS('s.event_ts')} AS at
      FROM unnest($1::text[]) AS u(symbol)
      CROSS JOIN LATERAL (
        SELECT underlying_price, event_ts FROM greek_snapshots g
         WHERE g.underlying = u.symbol AND g.underlying_price IS NOT NULL
         ORDER BY g.event_ts DESC LIMIT 1
      ) s`, [symbols]);
  return rows.map((r) => ({ symbol: r.symbol, price: Number(r.price), at: Number(r.at) }));
}

/**
 * Stores the closing marks of session `day` (close at `closeAt`) unless that day has some:
 * per option contract the last mark at or before the close, per underlying its last price.
 * Looks back 4 days for the last value (a contract quiet since before a long weekend still
 * gets one). Idempotent (ON CONFLICT DO NOTHING). Returns how many it stored.
 */
export async function materializeClosingMarks(db: Q, day: string, closeAt: number): Promise<number> {
  const have = await db.query('SELECT 1 FROM closing_marks WHERE day = $1::date LIMIT 1', [day]);
  if (have.length > 0) return 0;
  const rows = await db.query<{ n: number }>(`
    WITH w AS (
      SELECT contract_key, underlying, mark, underlying_price, event_ts FROM greek_snapshots
       WHERE event_ts <= ${TS('$2')} AND event_ts > ${TS('$2::float8 - 4 * 86400000')}
    ),
    opt AS (
      SELECT DISTINCT ON (contract_key) contract_key, mark, event_ts FROM w WHERE mark IS NOT NULL
       ORDER BY contract_key, event_ts DESC
    ),
    und AS (
      SELECT DISTINCT ON (underlying) underlying AS contract_key, underlying_price AS mark, event_ts FROM w WHERE underlying_price IS NOT NULL
       ORDER BY underlying, event_ts DESC
    ),
    ins AS (
      INSERT INTO closing_marks (contract_key, day, mark, marked_at, source)
      SELECT contract_key, $1::date, mark, event_ts, 'snapshot' FROM opt
      UNION ALL SELECT contract_key, $1::date, mark, event_ts, 'underlying_price' FROM und
      ON CONFLICT DO NOTHING RETURNING 1
    )
    SELECT count(*)::int AS n FROM ins`, [day, closeAt]);
  return Number(rows[0]?.n ?? 0);
}

export async function closingMarks(db: Q, day: string): Promise<{ contractKey: string; mark: number }[]> {
  return db.query('SELECT contract_key AS "contractKey", mark FROM closing_marks WHERE day = $1::date', [day]);
}

/** The first mark after `since` of each option contract key, and the first price of each underlying symbol. */
export async function firstMarksSince(db: Q, contractKeys: string[], symbols: string[], since: number): Promise<{ key: string; mark: number }[]> {
  if (contractKeys.length === 0 && symbols.length === 0) return [];
  return db.query(`
    SELECT c.key, s.mark FROM unnest($1::text[]) AS c(key)
      CROSS JOIN LATERAL (SELECT mark FROM greek_snapshots g WHERE g.contract_key = c.key AND g.mark IS NOT NULL AND g.event_ts > ${TS('$3')}
                          ORDER BY g.event_ts LIMIT 1) s
    UNION ALL
    SELECT u.key, s.mark FROM unnest($2::text[]) AS u(key)
      CROSS JOIN LATERAL (SELECT underlying_price AS mark FROM greek_snapshots g WHERE g.underlying = u.key AND g.underlying_price IS NOT NULL
                          AND g.event_ts > ${TS('$3')} ORDER BY g.event_ts LIMIT 1) s`, [contractKeys, symbols, since]);
}

/** Betas from market_metrics, when the table exists (the market-data issue adds it). */
export async function marketMetricBetas(db: Q): Promise<{ symbol: string; beta: number }[]> {
  const [exists] = await db.query<{ t: string | null }>("SELECT to_regclass('market_metrics')::text AS t");
  if (!exists?.t) return [];
  const rows = await db.query<{ symbol: string; beta: number | null }>('SELECT symbol, beta FROM market_metrics WHERE beta IS NOT NULL');
  return rows.filter((r) => r.beta !== null && Number.isFinite(Number(r.beta))).map((r) => ({ symbol: r.symbol, beta: Number(r.beta) }));
}

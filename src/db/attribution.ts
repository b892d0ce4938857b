/**
 * The inputs of Greek attribution over [t0, t1] (src/risk/attribution.ts), one statement each:
 * per (broker, account, contract) with a snapshot in (t0 − lookback, t1], its newest snapshot at or
 * before t0 and at or before t1 (LATERAL probes of the primary key); stock and future positions
 * from `positions` with their underlying's newest price at or before t0 and t1.
 */
import type { AttributionRow } from '../risk/attribution.js';
import type { Storage } from './types.js';

type Q = Pick<Storage, 'query'>;
const TS = (p: string) => `('epoch'::timestamptz + (${p})::float8 * interval '1 millisecond')`;
const MS = (c: string) => `(extract(epoch FROM ${c}) * 1000)::float8`;

export interface AttributionFilter {
  account?: string;
  underlying?: string;
  broker?: string;
}

export async function attributionRows(db: Q, t0: number, t1: number, lookbackMs: number, f: AttributionFilter = {}): Promise<AttributionRow[]> {
  const params: unknown[] = [t0, t1, lookbackMs];
  const where: string[] = [];
  for (const [col, v] of [['account', f.account], ['underlying', f.underlying], ['broker', f.broker]] as const) {
    if (v === undefined) continue;
    params.push(v);
    where.push(`AND ${col} = $${params.length}`);
  }
  const pick = (alias: string, bound: string, join: string) => `
    ${join} LATERAL (
      SELECT ${MS('g.event_ts')} AS at, g.underlying_price AS s, g.iv, g.quantity::float8 AS q, g.multiplier::float8 AS m,
             coalesce(g.mark, CASE WHEN g.bid IS NOT NULL AND g.ask IS NOT NULL AND g.ask >= g.bid AND g.bid >= 0 THEN (g.bid + g.ask) / 2 END) AS mark,
             g.delta, g.gamma, g.theta, g.vega
        FROM greek_snapshots g
       WHERE g.broker = k.broker AND g.account = k.account AND g.contract_key = k.contract_key
         AND g.event_ts <= ${TS(bound)} AND g.event_ts > ${TS(`${bound} - $3::float8`)}
       ORDER BY g.event_ts DESC, g.seq DESC LIMIT 1) ${alias}${join.startsWith('LEFT') ? ' ON true' : ''}`;
  const options = await db.query<Record<string, unknown>>(`
    WITH k AS (
      SELECT DISTINCT broker, account, contract_key, underlying FROM greek_snapshots
       WHERE event_ts > ${TS('$1::float8 - $3::float8')} AND event_ts <= ${TS('$2::float8')} ${where.join(' ')}
    )
    SELECT k.broker, k.account, k.contract_key, k.underlying,
           a.at AS at0, b.at AS at1, a.s AS s0, b.s AS s1, a.iv AS iv0, b.iv AS iv1, a.mark AS mark0, b.mark AS mark1,
           a.q, a.m, a.delta, a.gamma, a.theta, a.vega
      FROM k ${pick('a', '$1::float8', 'CROSS JOIN')} ${pick('b', '$2::float8', 'LEFT JOIN')}`, params);
  const price = (bound: string, alias: string) => `
    LEFT JOIN LATERAL (
      SELECT ${MS('g.event_ts')} AS at, g.underlying_price AS s FROM greek_snapshots g
       WHERE g.underlying = p.underlying AND g.underlying_price IS NOT NULL
         AND g.event_ts <= ${TS(bound)} AND g.event_ts > ${TS(`${bound} - $3::float8`)}
       ORDER BY g.event_ts DESC, g.seq DESC LIMIT 1) ${alias} ON true`;
  const stocks = await db.query<Record<string, unknown>>(`
    SELECT p.broker, p.account, p.contract_key, p.underlying, p.asset_class, p.quantity::float8 AS q, p.multiplier::float8 AS m,
           a.at AS at0, b.at AS at1, a.s AS s0, b.s AS s1
      FROM positions p ${price('$1::float8', 'a')} ${price('$2::float8', 'b')}
     WHERE p.contract_key !~ ' ' AND p.quantity <> 0
       AND (p.asset_class IN ('equity', 'future') OR p.contract_key ~ '^[A-Z][A-Z0-9.]{0,9}$' OR p.contract_key ~ '^/[A-Z0-9]{1,5}[FGHJKMNQUVXZ][0-9]{1,2}$')
       ${where.map((w) => w.replace('AND ', 'AND p.')).join(' ')}`, params);
  const n = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  return [
    ...options.map((r): AttributionRow => ({
      broker: String(r.broker), account: String(r.account), contractKey: String(r.contract_key), underlying: String(r.underlying),
      quantity: Number(r.q), multiplier: Number(r.m), size: Number(r.q) * Number(r.m),
      at0: n(r.at0), at1: n(r.at1), s0: n(r.s0), s1: n(r.s1), iv0: n(r.iv0), iv1: n(r.iv1), mark0: n(r.mark0), mark1: n(r.mark1),
      delta: n(r.delta), gamma: n(r.gamma), theta: n(r.theta), vega: n(r.vega),
    })),
    ...stocks.map((r): AttributionRow => {
      const future = r.asset_class === 'future' || /^\//.test(String(r.contract_key));
      return {
        broker: String(r.broker), account: String(r.account), contractKey: String(r.contract_key), underlying: String(r.underlying),
        assetClass: String(r.asset_class), quantity: Number(r.q), multiplier: Number(r.m), size: Number(r.q) * (future ? Number(r.m) : 1),
        at0: n(r.at0), at1: n(r.at1), s0: n(r.s0), s1: n(r.s1), iv0: null, iv1: null, mark0: n(r.s0), mark1: n(r.s1),
        delta: null, gamma: null, theta: null, vega: null,
      };
    }),
  ];
}

/**
 * market_metrics SQL (migration 0006): upsert of the latest metrics per symbol (a row older than
 * the stored one changes nothing) and the read used by the API, the greeks view and `risk`.
 */
import type { MarketMetric } from '../core/types.js';
import type { Storage } from './types.js';
import { StorageError } from './errors.js';
import { futureProductOf } from '../core/contract.js';

const TS = (p: string) => `'epoch'::timestamptz + ${p}::float8 * interval '1 millisecond'`;

export const MARKET_METRICS_UPSERT_SQL = `
INSERT INTO market_metrics (symbol, iv_index, iv_rank, iv_percentile, iv30, hv30, hv60, hv90, beta, earnings_date, source, updated_at)
SELECT s, a, b, c, d, e, f, g, bt, ed::date, src, ${TS('u')}
  FROM unnest($1::text[], $2::float8[], $3::float8[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::text[], $11::text[], $12::float8[])
    AS t(s, a, b, c, d, e, f, g, bt, ed, src, u)
ON CONFLICT (symbol) DO UPDATE SET
  iv_index = EXCLUDED.iv_index, iv_rank = EXCLUDED.iv_rank, iv_percentile = EXCLUDED.iv_percentile,
  iv30 = EXCLUDED.iv30, hv30 = EXCLUDED.hv30, hv60 = EXCLUDED.hv60, hv90 = EXCLUDED.hv90,
  beta = EXCLUDED.beta, earnings_date = EXCLUDED.earnings_date, source = EXCLUDED.source,
  updated_at = EXCLUDED.updated_at, fetched_at = clock_timestamp()
WHERE market_metrics.updated_at <= EXCLUDED.updated_at`;

const fin = (v: number | null) => (v !== null && Number.isFinite(v) ? v : null);

/** Parameters of MARKET_METRICS_UPSERT_SQL; a symbol repeated in one batch is sent once (newest wins). */
export function marketMetricParams(source: string, rows: MarketMetric[]): unknown[] {
  const bySymbol = new Map<string, MarketMetric>();
  for (const r of rows) {
    if (!r.symbol || !Number.isFinite(r.updatedAt)) throw new StorageError(`writeMarketMetrics: a row for "${r.symbol}" has no symbol or time`, false, 'INVALID_ROW');
    const prev = bySymbol.get(r.symbol);
    if (!prev || prev.updatedAt <= r.updatedAt) bySymbol.set(r.symbol, r);
  }
  const uniq = [...bySymbol.values()];
  const col = <T>(f: (m: MarketMetric) => T) => uniq.map(f);
  return [
    col((m) => m.symbol), col((m) => fin(m.ivIndex)), col((m) => fin(m.ivRank)), col((m) => fin(m.ivPercentile)),
    col((m) => fin(m.iv30)), col((m) => fin(m.hv30)), col((m) => fin(m.hv60)), col((m) => fin(m.hv90)), col((m) => fin(m.beta)),
    col((m) => m.earningsDate), col(() => source), col((m) => m.updatedAt),
  ];
}

export interface MarketMetricRecord extends MarketMetric {
  source: string;
  fetchedAt: number;
}

interface Row {
  symbol: string; iv_index: number | null; iv_rank: number | null; iv_percentile: number | null; iv30: number | null;
  hv30: number | null; hv60: number | null; hv90: number | null; beta: number | null; earnings_date: string | Date | null;
  source: string; updated_at: string | Date; fetched_at: string | Date;
}

const num = (v: unknown) => (v === null || v === undefined ? null : Number.isFinite(Number(v)) ? Number(v) : null);
const ms = (v: string | Date) => (v instanceof Date ? v.getTime() : Date.parse(v));
const day = (v: string | Date | null) => (v === null ? null : v instanceof Date ? v.toISOString().slice(0, 10) : String(v).slice(0, 10));

/**
 * The stored metrics of `symbols` (all when omitted), sorted by symbol. A future's key
 * (`/ESH7`) is answered by its product's row (`/ES`) when asked for; the answer keeps the asked symbol.
 * Empty when the table does not exist (a database from before migration 0006).
 */
export async function readMarketMetrics(db: Pick<Storage, 'query'>, symbols?: string[]): Promise<MarketMetricRecord[]> {
  const [exists] = await db.query<{ t: string | null }>("SELECT to_regclass('market_metrics')::text AS t");
  if (!exists?.t) return [];
  const metricsSymbolOf = (s: string) => futureProductOf(s) ?? s;
  const asked = symbols?.map((s) => s.trim().toUpperCase()).filter(Boolean);
  const lookup = asked ? [...new Set(asked.map((s) => metricsSymbolOf(s)))] : null;
  const rows = lookup
    ? await db.query<Row>('SELECT * FROM market_metrics WHERE symbol = ANY($1::text[])', [lookup])
    : await db.query<Row>('SELECT * FROM market_metrics ORDER BY symbol');
  const map = (r: Row, symbol = r.symbol): MarketMetricRecord => ({
    symbol, ivIndex: num(r.iv_index), ivRank: num(r.iv_rank), ivPercentile: num(r.iv_percentile), iv30: num(r.iv30),
    hv30: num(r.hv30), hv60: num(r.hv60), hv90: num(r.hv90), beta: num(r.beta), earningsDate: day(r.earnings_date),
    source: r.source, updatedAt: ms(r.updated_at), fetchedAt: ms(r.fetched_at),
  });
  if (!asked) return rows.map((r) => map(r));
  const bySymbol = new Map(rows.map((r) => [r.symbol, r]));
  const out: MarketMetricRecord[] = [];
  for (const s of [...new Set(asked)].sort()) {
    const r = bySymbol.get(s) ?? bySymbol.get(metricsSymbolOf(s));
    if (r) out.push(map(r, s));
  }
  return out;
}

/** The JSON form (API, `risk --json`): snake_case, times ISO, age against `now`. */
export function marketMetricJson(m: MarketMetricRecord, now: number): Record<string, unknown> {
  return {
    symbol: m.symbol, iv_index: m.ivIndex, iv_rank: m.ivRank, iv_percentile: m.ivPercentile, iv30: m.iv30, hv30: m.hv30, hv60: m.hv60, hv90: m.hv90,
    beta: m.beta, earnings_date: m.earningsDate, source: m.source, updated_at: new Date(m.updatedAt).toISOString(), age_ms: Math.max(0, Math.round(now - m.updatedAt)),
  };
}

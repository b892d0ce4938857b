/**
 * quotes SQL: one upsert per batch (the latest row per symbol wins inside the batch, and a row
 * never replaces one received later), and the read by symbols.
 */
import type { QuoteRow } from '../core/types.js';
import { StorageError } from './errors.js';

const TS = (p: string) => `'epoch'::timestamptz + ${p}::float8 * interval '1 millisecond'`;

export const QUOTES_UPSERT_SQL = `
INSERT INTO quotes AS q (symbol, broker, source, bid, ask, mid, mark, last, event_ts, received_at, iv, delta, gamma, theta, vega)
SELECT s, b, src, bid, ask, mid, mark, last, ${TS('ets')}, ${TS('rts')}, iv, de, ga, th, ve
  FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[], $7::float8[], $8::float8[], $9::float8[], $10::float8[],
              $11::float8[], $12::float8[], $13::float8[], $14::float8[], $15::float8[])
    AS t(s, b, src, bid, ask, mid, mark, last, ets, rts, iv, de, ga, th, ve)
ON CONFLICT (symbol) DO UPDATE SET
  broker = EXCLUDED.broker, source = EXCLUDED.source, bid = EXCLUDED.bid, ask = EXCLUDED.ask, mid = EXCLUDED.mid,
  mark = EXCLUDED.mark, last = EXCLUDED.last, event_ts = EXCLUDED.event_ts, received_at = EXCLUDED.received_at,
  iv = COALESCE(EXCLUDED.iv, q.iv), delta = COALESCE(EXCLUDED.delta, q.delta), gamma = COALESCE(EXCLUDED.gamma, q.gamma),
  theta = COALESCE(EXCLUDED.theta, q.theta), vega = COALESCE(EXCLUDED.vega, q.vega), persisted_at = clock_timestamp()
WHERE q.received_at <= EXCLUDED.received_at`;

export const QUOTES_SELECT_SQL = `
SELECT symbol, broker, source, bid, ask, mid, mark, last, iv, delta, gamma, theta, vega,
       (extract(epoch FROM event_ts) * 1000)::float8 AS "eventTs", (extract(epoch FROM received_at) * 1000)::float8 AS "receivedAt"
  FROM quotes WHERE symbol = ANY($1::text[])`;

const fin = (v: number | null | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** The newest row per symbol (by receivedAt; a later one wins a tie). */
export function latestPerSymbol(rows: QuoteRow[]): QuoteRow[] {
  const out = new Map<string, QuoteRow>();
  for (const r of rows) {
    const cur = out.get(r.symbol);
    if (!cur || cur.receivedAt <= r.receivedAt) out.set(r.symbol, r);
  }
  return [...out.values()];
}

export function validateQuotes(rows: QuoteRow[]): void {
  rows.forEach((r, i) => {
    if (!r.symbol || !r.broker || (r.source !== 'stream' && r.source !== 'rest') || !Number.isFinite(r.eventTs) || !Number.isFinite(r.receivedAt)) {
      throw new StorageError(`writeQuotes: quote ${i} (${r.symbol}) has an invalid key, source or time; the batch was not written`, false, 'INVALID_ROW');
    }
  });
}

export function quoteParams(rows: QuoteRow[]): unknown[] {
  const col = <T>(f: (r: QuoteRow) => T) => rows.map(f);
  return [
    col((r) => r.symbol), col((r) => r.broker), col((r) => r.source), col((r) => fin(r.bid)), col((r) => fin(r.ask)), col((r) => fin(r.mid)),
    col((r) => fin(r.mark)), col((r) => fin(r.last)), col((r) => r.eventTs), col((r) => r.receivedAt),
    col((r) => fin(r.iv)), col((r) => fin(r.delta)), col((r) => fin(r.gamma)), col((r) => fin(r.theta)), col((r) => fin(r.vega)),
  ];
}

/** A row as read back: numbers as numbers (drivers may hand float8 back as strings). */
export function quoteFromDb(r: Record<string, unknown>): QuoteRow {
  const n = (v: unknown) => (v === null || v === undefined ? null : fin(Number(v)));
  return {
    symbol: String(r.symbol), broker: String(r.broker), source: r.source === 'rest' ? 'rest' : 'stream',
    bid: n(r.bid), ask: n(r.ask), mid: n(r.mid), mark: n(r.mark), last: n(r.last),
    eventTs: Number(r.eventTs), receivedAt: Number(r.receivedAt),
    iv: n(r.iv), delta: n(r.delta), gamma: n(r.gamma), theta: n(r.theta), vega: n(r.vega),
  };
}

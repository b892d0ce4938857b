/**
 * Tastytrade GET /market-metrics items → MarketMetric rows, units normalised. Pure.
 *
 * The endpoint mixes units (../shared/brief/tasty-market-data.md §1; DEV openapi, tasty-go
 * fixture): `implied-volatility-index`, `-rank`, `-percentile` are 0–1 fractions, while
 * `implied-volatility-30-day` and `historical-volatility-30/60/90-day` are percent points
 * ("21.87" = 21.87 %). Every stored volatility number is a fraction, so those four are / 100.
 * Numbers arrive as JSON strings; anything not a finite number is null.
 */
import { finiteOrNull, type MarketMetric } from '../../core/types.js';
import { futureProductOf } from '../../core/contract.js';

/** Fields sent as 0–1 fractions. */
export const FRACTION_FIELDS = ['implied-volatility-index', 'implied-volatility-index-rank', 'implied-volatility-percentile'] as const;
/** Fields sent as percent points (divided by 100). */
export const PERCENT_POINT_FIELDS = ['implied-volatility-30-day', 'historical-volatility-30-day', 'historical-volatility-60-day', 'historical-volatility-90-day'] as const;

const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');
const pp = (v: unknown): number | null => {
  const n = finiteOrNull(v);
  // toPrecision: 22.4 / 100 is 0.22399999999999998 in binary; store 0.224.
  return n === null ? null : Number((n / 100).toPrecision(12));
};

/** One item; null when it has no symbol. `fetchedAt` stands in when the item carries no `updated-at`. */
export function parseMarketMetric(raw: unknown, fetchedAt: number): MarketMetric | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  const symbol = str(r.symbol).toUpperCase();
  if (!symbol) return null;
  // The rank has tos-/tw- variants; the plain field is the one the platform shows.
  const rank = finiteOrNull(r['implied-volatility-index-rank']) ?? finiteOrNull(r['tw-implied-volatility-index-rank']) ?? finiteOrNull(r['tos-implied-volatility-index-rank']);
  const earnings = (r.earnings ?? null) as Record<string, unknown> | null;
  const date = str(earnings?.['expected-report-date']);
  const updated = Date.parse(str(r['updated-at']));
  return {
    symbol,
    ivIndex: finiteOrNull(r['implied-volatility-index']),
    ivRank: rank,
    ivPercentile: finiteOrNull(r['implied-volatility-percentile']),
    iv30: pp(r['implied-volatility-30-day']),
    hv30: pp(r['historical-volatility-30-day']),
    hv60: pp(r['historical-volatility-60-day']),
    hv90: pp(r['historical-volatility-90-day']),
    beta: finiteOrNull(r.beta),
    earningsDate: /^\d{4}-\d{2}-\d{2}$/.test(date) ? date : null,
    updatedAt: Number.isFinite(updated) ? updated : fetchedAt,
  };
}

export function parseMarketMetrics(items: unknown[], fetchedAt: number): { metrics: MarketMetric[]; malformed: number } {
  const metrics: MarketMetric[] = [];
  let malformed = 0;
  for (const it of items) {
    const m = parseMarketMetric(it, fetchedAt);
    if (m) metrics.push(m);
    else malformed++;
  }
  return { metrics, malformed };
}

/**
 * The symbol metrics are asked for, for an underlying: equities and indices as they are, a
 * future (`/ESH7`) by its product (`/ES`): metrics and beta belong to the product, not the month.
 */
export function metricsSymbolOf(underlying: string): string | null {
  const u = underlying.trim().toUpperCase();
  if (!u) return null;
  const product = futureProductOf(u);
  if (product) return product;
  if (u.startsWith('.')) return null;
  return u;
}

/** Unique metrics symbols of a set of underlyings, sorted. */
export function metricsSymbols(underlyings: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const u of underlyings) {
    const s = metricsSymbolOf(u);
    if (s) out.add(s);
  }
  return [...out].sort();
}

/** At most this many symbols per /market-metrics call (the query string stays short). */
export const METRICS_BATCH = 100;

/**
 * The market-metrics block of the greeks view and `npm run risk` (issue 17 item 3): per
 * underlying, IV index, IV rank and percentile, IV30, HV30/60/90 (stored as fractions, shown in
 * percent), beta and the next earnings date. A future (/ESH7) shows its product's row (/ES). Pure.
 */
import { futureProductOf } from '../core/contract.js';
import type { MarketMetric } from '../core/types.js';

const pct = (v: number | null) => (v === null ? '-' : `${(v * 100).toFixed(1)}%`);
const num = (v: number | null, d = 2) => (v === null ? '-' : v.toFixed(d));

/**
 * Rows for `underlyings` (in their order, a future by its product), or every metric when none
 * are given. Empty string when there is nothing to show.
 */
export function metricsViewTable(metrics: MarketMetric[], underlyings?: string[], now?: number): string {
  const bySymbol = new Map(metrics.map((m) => [m.symbol, m]));
  const rows: [string, MarketMetric][] = [];
  if (underlyings) {
    for (const u of [...new Set(underlyings)]) {
      const m = bySymbol.get(u) ?? bySymbol.get(futureProductOf(u) ?? u);
      if (m) rows.push([u, m]);
    }
  } else {
    for (const m of [...metrics].sort((a, b) => a.symbol.localeCompare(b.symbol))) rows.push([m.symbol, m]);
  }
  if (rows.length === 0) return '';
  const head = ['underlying', 'IV idx', 'IV rank', 'IV pct', 'IV30', 'HV30', 'HV60', 'HV90', 'beta', 'earnings', ...(now !== undefined ? ['age'] : [])];
  const body = rows.map(([u, m]) => [
    u, pct(m.ivIndex), pct(m.ivRank), pct(m.ivPercentile), pct(m.iv30), pct(m.hv30), pct(m.hv60), pct(m.hv90), num(m.beta), m.earningsDate ?? '-',
    ...(now !== undefined ? [`${Math.max(0, Math.round((now - m.updatedAt) / 60_000))}m`] : []),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return ['market metrics (Tastytrade /market-metrics; rank and percentile 0-100 %, volatilities in %)', line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

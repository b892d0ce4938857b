/**
 * GET /market-metrics items as Tastytrade sends them (../shared/brief/tasty-market-data.md §1):
 * numbers as JSON strings, in the endpoint's mixed units: the IV index, its rank and percentile
 * as 0–1 fractions, IV30 and HV30/60/90 as percent points, beta a ratio, market-cap a JSON
 * number. The values are fixed per symbol (any symbol gets some), so tests can hand-check them.
 */

export interface SimMetrics {
  ivIndex: number;
  ivRank: number;
  ivPercentile: number;
  /** Percent points. */
  iv30: number;
  hv30: number;
  hv60: number;
  hv90: number;
  beta: number;
  earnings?: string;
}

export const SIM_METRICS: Record<string, SimMetrics> = {
  SPY: { ivIndex: 0.1542, ivRank: 0.2231, ivPercentile: 0.3112, iv30: 15.42, hv30: 12.87, hv60: 13.5, hv90: 14.05, beta: 1 },
  SPX: { ivIndex: 0.1561, ivRank: 0.2412, ivPercentile: 0.3305, iv30: 15.61, hv30: 12.9, hv60: 13.48, hv90: 14.1, beta: 1 },
  AAPL: { ivIndex: 0.224, ivRank: 0.0223, ivPercentile: 0.0312, iv30: 21.87, hv30: 20.02, hv60: 22.4, hv90: 24.75, beta: 1.27, earnings: '2027-01-28' },
  QQQ: { ivIndex: 0.1985, ivRank: 0.3125, ivPercentile: 0.412, iv30: 19.85, hv30: 17.3, hv60: 18.1, hv90: 18.95, beta: 1.12 },
  '/ES': { ivIndex: 0.1523, ivRank: 0.2104, ivPercentile: 0.2987, iv30: 15.23, hv30: 12.75, hv60: 13.36, hv90: 13.98, beta: 1 },
};

/** Some stable metrics for a symbol outside the table. */
function generated(symbol: string): SimMetrics {
  let h = 7;
  for (const c of symbol) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const f = (k: number) => ((h >>> k) % 1000) / 1000;
  const iv = 0.15 + 0.3 * f(1);
  return { ivIndex: iv, ivRank: f(3), ivPercentile: f(5), iv30: iv * 100, hv30: iv * 90, hv60: iv * 92, hv90: iv * 95, beta: +(0.6 + f(7)).toFixed(2) };
}

export function simMetricsOf(symbol: string): SimMetrics {
  return SIM_METRICS[symbol] ?? generated(symbol);
}

const s = (n: number, digits = 4) => n.toFixed(digits).replace(/0+$/, '').replace(/\.$/, '');

/** One data.items[] element of GET /market-metrics. */
export function marketMetricsItem(symbol: string, now = Date.now()): Record<string, unknown> {
  const m = simMetricsOf(symbol);
  const updated = new Date(Math.floor(now / 60_000) * 60_000).toISOString();
  return {
    symbol,
    'implied-volatility-index': s(m.ivIndex),
    'implied-volatility-index-5-day-change': '-0.0147',
    'implied-volatility-index-rank': s(m.ivRank),
    'tos-implied-volatility-index-rank': s(m.ivRank),
    'tw-implied-volatility-index-rank': s(m.ivRank),
    'implied-volatility-index-rank-source': 'tos',
    'implied-volatility-percentile': s(m.ivPercentile),
    'implied-volatility-updated-at': updated,
    'liquidity-rating': 4,
    'liquidity-rank': '0.61',
    'liquidity-value': '0.0223',
    'updated-at': updated,
    beta: s(m.beta, 2),
    'corr-spy-3month': '0.79',
    'market-cap': symbol.startsWith('/') ? 0 : 2846108626900,
    'implied-volatility-30-day': s(m.iv30, 2),
    'historical-volatility-30-day': s(m.hv30, 2),
    'historical-volatility-60-day': s(m.hv60, 2),
    'historical-volatility-90-day': s(m.hv90, 2),
    'iv-hv-30-day-difference': s(m.iv30 - m.hv30, 2),
    ...(m.earnings ? { earnings: { visible: true, 'expected-report-date': m.earnings, estimated: true, 'late-flag': 0, 'quarter-end-date': '2026-12-31', 'actual-eps': null, 'consensus-estimate': '2.1' } } : {}),
    'option-expiration-implied-volatilities': [],
  };
}

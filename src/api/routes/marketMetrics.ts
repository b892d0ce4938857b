/**
 * GET /v1/market-metrics?symbols=SPY,/ESH7 : the stored volatility metrics and beta per
 * underlying (market_metrics, issue 17 item 3). Every volatility number is a fraction
 * (0.1542 = 15.42 %); a future's key (/ESH7) is answered by its product's row (/ES). Unknown
 * symbols are listed in `missing`, never answered with zeros.
 */
import type { FastifyInstance } from 'fastify';
import { marketMetricJson, readMarketMetrics } from '../../db/marketMetrics.js';
import type { ApiDeps } from '../app.js';
import { badRequest } from '../errors.js';
import { parseList, type RawParams } from '../params.js';
import { fromQuery } from '../query.js';
import { querySchema, textParam } from '../validation.js';

export const MARKET_METRICS_QUERY = querySchema({
  symbols: textParam('comma list of underlyings (SPY,AAPL,/ESH7; futures answer with their product /ES); all stored when omitted'),
});

const fraction = (what: string) => ({ type: ['number', 'null'], description: `${what}, a fraction (0.2187 = 21.87 %)` });

const METRIC_JSON = {
  type: 'object',
  required: ['symbol', 'iv_index', 'iv_rank', 'iv_percentile', 'iv30', 'hv30', 'hv60', 'hv90', 'beta', 'earnings_date', 'source', 'updated_at', 'age_ms'],
  properties: {
    symbol: { type: 'string', description: 'as asked (a future key stays the key)' },
    iv_index: fraction('implied volatility index'),
    iv_rank: { type: ['number', 'null'], description: 'IV rank, 0–1' },
    iv_percentile: { type: ['number', 'null'], description: 'IV percentile, 0–1' },
    iv30: fraction('30-day implied volatility'),
    hv30: fraction('30-day historical volatility'),
    hv60: fraction('60-day historical volatility'),
    hv90: fraction('90-day historical volatility'),
    beta: { type: ['number', 'null'], description: 'beta against SPY' },
    earnings_date: { type: ['string', 'null'], description: 'next expected earnings report, YYYY-MM-DD' },
    source: { type: 'string', description: 'broker the metrics came from (tasty)' },
    updated_at: { type: 'string', format: 'date-time' },
    age_ms: { type: 'integer', description: 'now − updated_at' },
  },
} as const;

export const MARKET_METRICS_RESPONSE = {
  type: 'object',
  required: ['count', 'metrics', 'missing'],
  properties: {
    count: { type: 'integer' },
    metrics: { type: 'array', items: METRIC_JSON },
    missing: { type: 'array', items: { type: 'string' }, description: 'asked symbols with no stored metrics' },
  },
} as const;


const PARAMS = Object.keys(MARKET_METRICS_QUERY.properties);
const MAX_SYMBOLS = 500;

export function registerMarketMetrics(app: FastifyInstance, deps: Pick<ApiDeps, 'storage' | 'reader' | 'now'>): void {
  const reader = deps.reader ?? deps.storage;
  const now = deps.now ?? Date.now;
  app.get('/v1/market-metrics', {
    schema: { summary: 'Volatility metrics (IV rank/percentile, IV30, HV30/60/90, all fractions) and beta per underlying', tags: ['data'], querystring: MARKET_METRICS_QUERY, response: { 200: MARKET_METRICS_RESPONSE } },
  }, async (req) => {
    const p: RawParams = fromQuery(req.query, PARAMS);
    const symbols = parseList(p.symbols, 'symbols')?.map((s) => s.toUpperCase());
    if (symbols && symbols.length > MAX_SYMBOLS) throw badRequest(`symbols: at most ${MAX_SYMBOLS} symbols per call`);
    const rows = await readMarketMetrics(reader, symbols);
    const t = now();
    const found = new Set(rows.map((r) => r.symbol));
    return { count: rows.length, metrics: rows.map((r) => marketMetricJson(r, t)), missing: (symbols ?? []).filter((s) => !found.has(s)) };
  });
}

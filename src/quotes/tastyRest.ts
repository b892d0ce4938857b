/**
 * Tastytrade REST quotes: GET /market-data/by-type with one comma list per instrument type
 * (equity, index, equity-option, future, future-option), at most 100 symbols across all types
 * per call (tasty-market-data.md §2). Numbers come as strings. Through @tastytrade/api's HTTP
 * client (it refreshes the OAuth token); the SDK has no wrapper for this endpoint.
 */
import TastytradeClient from '@tastytrade/api';
import type { Clock } from '../core/clock.js';
import { finiteOrNull, type QuoteRow } from '../core/types.js';
import type { TastyConfig } from '../brokers/tasty/config.js';
import { classifyRestError } from '../brokers/tasty/rest.js';
import { QuoteRestError, type RestQuoteFetcher } from './restQueue.js';
import { parseSymbol, type SymbolKind, type WatchSymbol } from './symbols.js';

export const BY_TYPE_MAX_SYMBOLS = 100;

const PARAM: Record<SymbolKind, string> = { equity: 'equity', index: 'index', option: 'equity-option', future: 'future', future_option: 'future-option' };

/** The query of one by-type call: symbols grouped by type, comma-joined. */
export function byTypeParams(symbols: WatchSymbol[]): Record<string, string> {
  const groups: Record<string, string[]> = {};
  for (const s of symbols) (groups[PARAM[s.kind]] ??= []).push(s.symbol);
  return Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, v.join(',')]));
}

/** One by-type item → a `quotes` row keyed by the symbol it was asked as (null when unusable). */
export function byTypeItemToRow(item: unknown, asked: Map<string, WatchSymbol>, receivedAt: number): QuoteRow | null {
  if (!item || typeof item !== 'object') return null;
  const it = item as Record<string, unknown>;
  const raw = typeof it.symbol === 'string' ? it.symbol : '';
  let key = asked.has(raw) ? raw : null;
  if (!key) {
    try {
      key = parseSymbol(raw).symbol;
    } catch {
      return null;
    }
  }
  if (!asked.has(key)) return null;
  const bid = finiteOrNull(it.bid);
  const ask = finiteOrNull(it.ask);
  const mid = finiteOrNull(it.mid) ?? (bid !== null && ask !== null ? Math.round(((bid + ask) / 2) * 1e9) / 1e9 : null);
  const updated = Date.parse(String(it['updated-at'] ?? ''));
  return {
    symbol: key, broker: 'tasty', source: 'rest', bid, ask, mid, mark: finiteOrNull(it.mark) ?? mid, last: finiteOrNull(it.last),
    eventTs: Number.isFinite(updated) ? updated : receivedAt, receivedAt,
    iv: finiteOrNull(it.volatility), delta: finiteOrNull(it.delta), gamma: finiteOrNull(it.gamma), theta: finiteOrNull(it.theta), vega: finiteOrNull(it.vega),
  };
}

export function createTastyQuoteFetcher(config: TastyConfig, clock: Clock, client?: TastytradeClient): RestQuoteFetcher {
  const c = client ?? new TastytradeClient({
    baseUrl: config.apiUrl,
    accountStreamerUrl: config.apiUrl.replace(/^http/, 'ws'),
    clientSecret: config.clientSecret,
    refreshToken: config.refreshToken,
    oauthScopes: config.oauthScopes,
  });
  return {
    broker: 'tasty',
    maxSymbolsPerCall: BY_TYPE_MAX_SYMBOLS,
    async fetch(symbols) {
      const asked = new Map(symbols.map((s) => [s.symbol, s]));
      let res: { data?: { data?: { items?: unknown } } };
      try {
        res = (await c.httpClient.getData('/market-data/by-type', {}, byTypeParams(symbols))) as typeof res;
      } catch (err) {
        const e = classifyRestError(err, config.apiUrl, clock.now());
        throw new QuoteRestError(e.message, e.status ?? null);
      }
      const items = res.data?.data?.items;
      if (!Array.isArray(items)) throw new QuoteRestError('Tastytrade /market-data/by-type answered without data.items', null);
      const now = clock.now();
      return items.map((i) => byTypeItemToRow(i, asked, now)).filter((r): r is QuoteRow => r !== null);
    },
  };
}

/**
 * A local Tastytrade REST server: the endpoints @tastytrade/api calls for Riskwire, with
 * kebab-case JSON wrapped in data / data.items, OAuth refresh and bearer tokens, and knobs for
 * slow answers, 429 (with Retry-After) and 5xx. Counts requests per route.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { closeServer, listen } from '../../simkit/index.js';
import { positionItem, type SimHolding } from './book.js';
import { marketMetricsItem } from './metrics.js';
import type { SimFuturesBook } from '../../simfutures.js';
import { futureStreamerSymbol } from '../symbols.js';

export interface RestKnobs {
  /** Delay before answering any request. */
  delayMs: number;
  /** The next n requests (any route) answer 429. */
  fail429: number;
  /** Retry-After seconds sent with 429/503 (null = header omitted). */
  retryAfterSec: number | null;
  /** The next n requests answer 503. */
  fail5xx: number;
  /** Lifetime of access tokens (expires_in). */
  accessTtlSec: number;
  /** Lifetime of API quote tokens (expires-at). */
  quoteTokenTtlMs: number;
  /**
   * GET /market-data/by-type calls allowed per second (sliding 1 s window); past it the call
   * answers 429 without Retry-After, as Tastytrade does. null = unlimited.
   */
  quotesPerSecond: number | null;
  /** The next n GET /market-data/by-type calls answer 429 (no Retry-After), whatever the rate. */
  quotes429: number;
}

export interface RestState {
  clientSecret: string;
  refreshToken: string;
  book: Map<string, SimHolding[]>;
  /** Orders per account (the account streamer's pushes), for GET /accounts/{a}/orders. */
  orders?: Map<string, Record<string, unknown>[]>;
  dxlinkUrl: () => string;
  issueQuoteToken: (ttlMs: number) => { token: string; issuedAt: number; expiresAt: number };
  /** A by-type item for one symbol of one type (`equity`, `index`, `equity-option`, ...), or null when unknown. */
  marketData?: (type: string, symbol: string) => Record<string, unknown> | null;
  /** The futures book, served by GET /instruments/futures (and /instruments/futures/{sym}). */
  futures?: SimFuturesBook;
}

/** One future as GET /instruments/futures returns it (tasty-go futures_test.go fields). */
function futureInstrument(fb: SimFuturesBook): Record<string, unknown> {
  const f = fb.future;
  return {
    symbol: f.key, 'product-code': f.contract.root, 'contract-size': f.multiplier.toFixed(1), 'tick-size': '0.25',
    'notional-multiplier': f.multiplier.toFixed(1), 'main-fraction': '0.0', 'sub-fraction': '0.0', 'display-factor': '0.01',
    'last-trade-date': f.expiry, 'expiration-date': f.expiry, 'closing-only-date': f.expiry, active: true, 'active-month': true,
    'next-active-month': false, 'is-closing-only': false, 'stops-trading-at': `${f.expiry}T13:30:00.000+00:00`,
    'expires-at': `${f.expiry}T13:30:00.000+00:00`, 'product-group': 'CME_ES', exchange: f.exchange,
    'roll-target-symbol': f.key, 'streamer-exchange-code': f.exchangeCode, 'streamer-symbol': futureStreamerSymbol(f.key, f.exchangeCode),
    'back-month-first-calendar-symbol': false, 'is-tradeable': true,
    'future-product': { 'root-symbol': `/${f.contract.root}`, code: f.contract.root, description: 'E-mini S&P 500', exchange: f.exchange, 'product-type': 'Financial', 'listed-months': ['H', 'M', 'U', 'Z'], 'active-months': ['H', 'M', 'U', 'Z'], 'notional-multiplier': f.multiplier.toFixed(1), 'tick-size': '0.25', 'display-factor': '0.01', 'streamer-exchange-code': f.exchangeCode },
  };
}

export interface RestServer {
  url: string;
  knobs: RestKnobs;
  /** Requests per route key, e.g. 'POST /oauth/token', 'GET /accounts/:a/positions'. */
  counts: Map<string, number>;
  totalRequests(): number;
  /** Every GET /market-data/by-type call: when, how many symbols, and whether it answered 429. */
  byTypeCalls: { at: number; symbols: number; status: number }[];
  close(): Promise<void>;
}

export const defaultRestKnobs = (): RestKnobs => ({ delayMs: 0, fail429: 0, retryAfterSec: 1, fail5xx: 0, accessTtlSec: 900, quoteTokenTtlMs: 86_400_000, quotesPerSecond: null, quotes429: 0 });

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return Object.fromEntries(new URLSearchParams(text));
  }
}

function routeKey(method: string, path: string): string {
  if (/^\/accounts\/[^/]+\/positions$/.test(path)) return `${method} /accounts/:a/positions`;
  if (/^\/accounts\/[^/]+\/orders$/.test(path)) return `${method} /accounts/:a/orders`;
  return `${method} ${path}`;
}

/**
 * One page of an account's order history, as the real endpoint answers: filters start-date /
 * end-date (YYYY-MM-DD, on received-at), sort Asc|Desc (default Desc, newest first), per-page
 * (default 10, at most 250) and page-offset; items in data.items, paging in `pagination`.
 */
export function ordersPage(account: string, all: Record<string, unknown>[], q: URLSearchParams): Record<string, unknown> {
  const day = (o: Record<string, unknown>) => String(o['received-at'] ?? '').slice(0, 10);
  const from = q.get('start-date');
  const to = q.get('end-date');
  let items = all.filter((o) => (!from || day(o) >= from) && (!to || day(o) <= to));
  if ((q.get('sort') ?? 'Desc') !== 'Asc') items = [...items].reverse();
  const perPage = Math.min(250, Math.max(1, Number(q.get('per-page')) || 10));
  const offset = Math.max(0, Number(q.get('page-offset')) || 0);
  const page = items.slice(offset * perPage, (offset + 1) * perPage);
  const totalPages = Math.ceil(items.length / perPage);
  return {
    data: { items: page },
    context: `/accounts/${account}/orders`,
    pagination: {
      'per-page': perPage, 'page-offset': offset, 'item-offset': offset * perPage, 'total-items': items.length, 'total-pages': totalPages,
      'current-item-count': page.length, 'previous-link': null, 'next-link': null, 'paging-link-template': null,
    },
  };
}

const MARKET_DATA_TYPES = ['equity', 'index', 'equity-option', 'future', 'future-option', 'cryptocurrency'];

export async function startRestServer(state: RestState, knobs: RestKnobs = defaultRestKnobs(), port = 0): Promise<RestServer> {
  const counts = new Map<string, number>();
  const accessTokens = new Map<string, number>(); // token → expiry (ms)
  const byTypeCalls: RestServer['byTypeCalls'] = [];
  let byTypeWindow: number[] = [];
  let n = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    const key = routeKey(method, url.pathname);
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const body = method === 'POST' ? await readBody(req) : {};
    if (knobs.delayMs > 0) await new Promise((r) => setTimeout(r, knobs.delayMs));
    const retry: Record<string, string> = knobs.retryAfterSec === null ? {} : { 'retry-after': String(knobs.retryAfterSec) };
    if (knobs.fail429 > 0) {
      knobs.fail429--;
      return send(res, 429, { error: { code: 'rate_limited', message: 'Too many requests' } }, retry);
    }
    if (knobs.fail5xx > 0) {
      knobs.fail5xx--;
      return send(res, 503, { error: { code: 'unavailable', message: 'Service unavailable' } }, retry);
    }

    if (method === 'POST' && url.pathname === '/oauth/token') {
      if (body.grant_type !== 'refresh_token' || body.refresh_token !== state.refreshToken || body.client_secret !== state.clientSecret) {
        return send(res, 401, { error: 'invalid_grant', error_description: 'Invalid refresh token or client secret' });
      }
      const token = `sim-access-${++n}-${Math.random().toString(36).slice(2)}`;
      accessTokens.set(token, Date.now() + knobs.accessTtlSec * 1000);
      return send(res, 200, { access_token: token, token_type: 'Bearer', expires_in: knobs.accessTtlSec, scope: String(body.scope ?? 'read') });
    }

    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    const exp = auth ? accessTokens.get(auth[1]) : undefined;
    if (exp === undefined || exp < Date.now()) {
      return send(res, 401, { error: { code: 'token_invalid', message: 'This access token is invalid or expired' } });
    }

    if (method === 'GET' && url.pathname === '/api-quote-tokens') {
      const t = state.issueQuoteToken(knobs.quoteTokenTtlMs);
      return send(res, 200, { data: { token: t.token, 'dxlink-url': state.dxlinkUrl(), level: 'api', 'issued-at': new Date(t.issuedAt).toISOString(), 'expires-at': new Date(t.expiresAt).toISOString() }, context: '/api-quote-tokens' });
    }
    if (method === 'GET' && url.pathname === '/market-data/by-type') {
      const now = Date.now();
      byTypeWindow = byTypeWindow.filter((t) => t > now - 1000);
      const asked: [string, string][] = [];
      for (const type of MARKET_DATA_TYPES) {
        for (const sym of (url.searchParams.get(type) ?? '').split(',')) if (sym.trim()) asked.push([type, sym.trim()]);
      }
      const forced = knobs.quotes429 > 0;
      if (forced) knobs.quotes429--;
      if (forced || (knobs.quotesPerSecond !== null && byTypeWindow.length >= knobs.quotesPerSecond)) {
        byTypeCalls.push({ at: now, symbols: asked.length, status: 429 });
        // Tastytrade throttles with a bare 429: no Retry-After, no rate-limit headers.
        return send(res, 429, { error: { code: 'too_many_requests', message: 'Rate limit exceeded' } });
      }
      byTypeWindow.push(now);
      if (asked.length > 100) {
        byTypeCalls.push({ at: now, symbols: asked.length, status: 400 });
        return send(res, 400, { error: { code: 'invalid_symbols', message: 'at most 100 symbols across all types' } });
      }
      byTypeCalls.push({ at: now, symbols: asked.length, status: 200 });
      const items = asked.map(([type, sym]) => state.marketData?.(type, sym) ?? null).filter((x) => x !== null);
      return send(res, 200, { data: { items }, context: '/market-data/by-type' });
    }
    if (method === 'GET' && url.pathname === '/customers/me/accounts') {
      const items = [...state.book.keys()].map((a, i) => ({
        account: { 'account-number': a, nickname: `Sim ${i + 1}`, 'account-type-name': 'Individual', 'margin-or-cash': 'Margin', 'is-closed': false, 'is-foreign': false },
        'authority-level': 'owner',
      }));
      return send(res, 200, { data: { items }, context: '/customers/me/accounts' });
    }
    const pm = /^\/accounts\/([^/]+)\/positions$/.exec(url.pathname);
    if (method === 'GET' && pm) {
      const account = decodeURIComponent(pm[1]);
      const holdings = state.book.get(account);
      if (!holdings) return send(res, 403, { error: { code: 'not_permitted', message: `No access to account ${account}` } });
      return send(res, 200, { data: { items: holdings.map((h) => positionItem(account, h)) }, context: url.pathname });
    }
    if (method === 'GET' && url.pathname === '/market-metrics') {
      // One comma-separated `symbols` string; unknown symbols still get an item (as for any listed symbol).
      const symbols = (url.searchParams.get('symbols') ?? '').split(',').map((x) => x.trim()).filter(Boolean);
      return send(res, 200, { data: { items: symbols.map((sym) => marketMetricsItem(sym)) }, context: '/market-metrics' });
    }
    if (method === 'GET' && (url.pathname === '/instruments/futures' || url.pathname.startsWith('/instruments/futures/'))) {
      const single = url.pathname.startsWith('/instruments/futures/') ? decodeURIComponent(url.pathname.slice('/instruments/futures/'.length)) : null;
      const asked = single !== null ? [single] : [...url.searchParams.getAll('symbol[]'), ...url.searchParams.getAll('symbol')];
      const norm = (x: string) => `/${x.replace(/^\//, '').toUpperCase()}`;
      const fb = state.futures;
      const items = fb && asked.some((a) => norm(a) === fb.future.key) ? [futureInstrument(fb)] : [];
      if (single !== null) return items.length ? send(res, 200, { data: items[0], context: url.pathname }) : send(res, 404, { error: { code: 'record_not_found', message: `Future ${single} not found` } });
      return send(res, 200, { data: { items }, context: url.pathname });
    }
    const om = /^\/accounts\/([^/]+)\/orders$/.exec(url.pathname);
    if (method === 'GET' && om) {
      const account = decodeURIComponent(om[1]);
      if (!state.book.has(account)) return send(res, 403, { error: { code: 'not_permitted', message: `No access to account ${account}` } });
      return send(res, 200, ordersPage(account, state.orders?.get(account) ?? [], url.searchParams));
    }
    return send(res, 404, { error: { code: 'not_found', message: `${method} ${url.pathname}` } });
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) send(res, 500, { error: { code: 'internal', message: 'simulator error' } });
    });
  });
  const bound = (await listen(server, port)).port;
  return {
    url: `http://127.0.0.1:${bound}`,
    knobs,
    counts,
    byTypeCalls,
    totalRequests: () => [...counts.values()].reduce((a, b) => a + b, 0),
    close: () => closeServer(server),
  };
}

/**
 * The REST control plane through @tastytrade/api's TastytradeClient: OAuth refresh (done by the
 * SDK), accounts, positions and the API quote token. Called at start, on feed rebuilds, on the
 * position poll, never per quote. 429/5xx/timeouts back off (Retry-After honoured) behind one
 * shared gate so that no caller hammers the API while it asks us to wait.
 */
import TastytradeClient from '@tastytrade/api';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { redactText } from '../../core/logger.js';
import { backoffDelay, parseRetryAfter, REST_BACKOFF } from '../../core/backoff.js';
import type { TastyConfig } from './config.js';

export type RestErrorKind = 'unreachable' | 'auth' | 'rate-limited' | 'server' | 'timeout' | 'bad-response';

export class TastyRestError extends Error {
  constructor(
    message: string,
    readonly kind: RestErrorKind,
    readonly status?: number,
    readonly retryAfterMs?: number | null,
  ) {
    super(message);
    this.name = 'TastyRestError';
  }
  get retryable(): boolean {
    return this.kind === 'rate-limited' || this.kind === 'server' || this.kind === 'timeout';
  }
}

export interface QuoteToken {
  token: string;
  dxlinkUrl: string;
  level: string | null;
  /** Wall-clock expiry (ms epoch) when the server says, else null. */
  expiresAt: number | null;
}

export interface TastyRest {
  accountNumbers(): Promise<unknown>;
  positions(account: string): Promise<unknown>;
  quoteToken(): Promise<QuoteToken>;
  /**
   * Order history of an account from `sinceMs` on (GET /accounts/{a}/orders, start-date = that
   * UTC day, oldest first, every page): the account streamer's catch-up after a reconnect.
   */
  orders?(account: string, sinceMs: number): Promise<unknown[]>;
  /** GET /instruments/futures?symbol[]=/ESH7&… : outright futures (streamer symbol, notional-multiplier). */
  futures?(symbols: string[]): Promise<unknown[]>;
  /** GET /market-metrics?symbols=A,B (one comma-separated string): the items (raw, mixed units). */
  marketMetrics?(symbols: string[]): Promise<unknown[]>;
  /** The OAuth Authorization value the account streamer wants as auth-token (refreshed when due). */
  accessToken?(): Promise<string>;
  /**
   * The DXLink symbol of a future (`/ESH7` → `/ESH27:XCME`) or futures option, from
   * GET /instruments/futures/{sym} or /instruments/future-options/{sym} (`streamer-symbol`);
   * null when the instrument is unknown (404).
   */
  streamerSymbolOf?(kind: 'future' | 'future_option', symbol: string): Promise<string | null>;
  stats(): { requests: number; retries: number; waitingUntil: number | null };
  /** Stops waiting for backoffs (pending calls reject). */
  close(): void;
}

/** One-line, secret-free description of whatever axios (or anything else) threw. */
export function classifyRestError(err: unknown, apiUrl: string, now: number): TastyRestError {
  if (err instanceof TastyRestError) return err;
  const e = err as { code?: string; message?: string; response?: { status?: number; headers?: Record<string, unknown> } };
  const status = e?.response?.status;
  if (status !== undefined) {
    if (status === 401 || status === 403) {
      return new TastyRestError(`Tastytrade rejected the credentials (HTTP ${status}): check TASTY_CLIENT_SECRET and TASTY_REFRESH_TOKEN`, 'auth', status);
    }
    const retryAfter = parseRetryAfter(e.response?.headers?.['retry-after'], now);
    if (status === 429) return new TastyRestError(`Tastytrade API rate limit (HTTP 429) at ${apiUrl}`, 'rate-limited', status, retryAfter);
    if (status >= 500) return new TastyRestError(`Tastytrade API error (HTTP ${status}) at ${apiUrl}`, 'server', status, retryAfter);
    return new TastyRestError(`Tastytrade API answered HTTP ${status} at ${apiUrl}`, 'bad-response', status);
  }
  const code = e?.code ?? '';
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ERR_NETWORK', 'EPROTO', 'CERT_HAS_EXPIRED'].includes(code)) {
    return new TastyRestError(`cannot reach the Tastytrade API at ${apiUrl} (${code}): check TASTY_API_URL and the network`, 'unreachable');
  }
  return new TastyRestError(`Tastytrade API call failed at ${apiUrl}: ${redactText(String(e?.message ?? err)).split('\n')[0]}`, 'bad-response');
}

const str = (v: unknown) => (typeof v === 'string' ? v : '');

export function parseQuoteToken(data: unknown): QuoteToken {
  const d = (data ?? {}) as Record<string, unknown>;
  const token = str(d.token);
  const dxlinkUrl = str(d['dxlink-url']);
  if (!token || !dxlinkUrl) throw new TastyRestError('Tastytrade /api-quote-tokens answered without token or dxlink-url', 'bad-response');
  const exp = Date.parse(str(d['expires-at']));
  return { token, dxlinkUrl, level: str(d.level) || null, expiresAt: Number.isFinite(exp) ? exp : null };
}

/** The items and page count of one paginated answer ({data:{items}, pagination:{total-pages}}). */
export function parsePage(body: unknown): { items: unknown[]; totalPages: number | null } {
  const b = (body ?? {}) as { data?: { items?: unknown }; pagination?: Record<string, unknown> };
  const items = b.data?.items;
  if (!Array.isArray(items)) throw new TastyRestError('Tastytrade answered an order page without data.items', 'bad-response');
  const pages = Number(b.pagination?.['total-pages']);
  return { items, totalPages: Number.isFinite(pages) ? pages : null };
}

/** Page size asked of list endpoints; a page shorter than this is the last one. */
export const ORDERS_PER_PAGE = 200;
/** A broken server that pages forever stops here. */
const MAX_PAGES = 100;

export interface RestOptions {
  /** Retries of one call for retryable failures before giving up. */
  maxRetries?: number;
  random?: () => number;
  /** For tests: a ready client instead of one built from config. */
  client?: TastytradeClient;
}

export function createTastyRest(config: TastyConfig, log: Logger, clock: Clock, opts: RestOptions = {}): TastyRest {
  const client =
    opts.client ??
    new TastytradeClient({
      baseUrl: config.apiUrl,
      // Only the REST part is used; the account streamer is never connected.
      accountStreamerUrl: config.apiUrl.replace(/^http/, 'ws'),
      clientSecret: config.clientSecret,
      refreshToken: config.refreshToken,
      oauthScopes: config.oauthScopes,
    });
  const maxRetries = opts.maxRetries ?? 5;
  let gateUntil = 0;
  let requests = 0;
  let retries = 0;
  let closed = false;
  const waiters = new Set<() => void>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      const wake = () => {
        waiters.delete(wake);
        clock.clearTimeout(handle);
        if (closed) reject(new TastyRestError('Tastytrade REST client closed', 'bad-response'));
        else resolve();
      };
      const handle = clock.setTimeout(wake, ms);
      waiters.add(wake);
    });

  /** Runs fn with a timeout on the injectable clock (axios itself has none configured here). */
  const withTimeout = <T>(fn: () => Promise<T>): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = clock.setTimeout(() => reject(new TastyRestError(`Tastytrade API did not answer within ${config.restTimeoutMs} ms at ${config.apiUrl}`, 'timeout')), config.restTimeoutMs);
      fn().then(
        (v) => { clock.clearTimeout(timer); resolve(v); },
        (e) => { clock.clearTimeout(timer); reject(e); },
      );
    });

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const wait = gateUntil - clock.now();
      if (wait > 0) await sleep(wait);
      if (closed) throw new TastyRestError('Tastytrade REST client closed', 'bad-response');
      requests++;
      try {
        return await withTimeout(fn);
      } catch (err) {
        const e = classifyRestError(err, config.apiUrl, clock.now());
        const oauth = String((err as { config?: { url?: string } })?.config?.url ?? '').endsWith('/oauth/token');
        if (e.kind === 'auth' && e.status === 401 && attempt === 0 && !oauth) {
          // The access token may have been revoked early: drop it so the SDK refreshes once.
          client.httpClient.accessToken.clear();
          continue;
        }
        if (!e.retryable || attempt >= maxRetries || closed) throw e;
        const delay = Math.max(e.retryAfterMs ?? 0, backoffDelay(attempt, REST_BACKOFF, opts.random));
        gateUntil = Math.max(gateUntil, clock.now() + delay);
        retries++;
        log.warn({ call: what, status: e.status, delayMs: delay, attempt: attempt + 1 }, 'tasty REST backing off');
      }
    }
  }

  return {
    accountNumbers: () => call('accounts', () => client.accountsAndCustomersService.getCustomerAccounts()),
    positions: (account) => call('positions', () => client.balancesAndPositionsService.getPositionsList(account)),
    quoteToken: async () => parseQuoteToken(await call('quote-token', () => client.accountsAndCustomersService.getApiQuoteToken())),
    orders: async (account, sinceMs) => {
      const out: unknown[] = [];
      const startDate = new Date(sinceMs).toISOString().slice(0, 10);
      for (let page = 0; page < MAX_PAGES; page++) {
        const res = (await call('orders', () =>
          client.httpClient.getData(`/accounts/${encodeURIComponent(account)}/orders`, {}, { 'start-date': startDate, sort: 'Asc', 'per-page': ORDERS_PER_PAGE, 'page-offset': page }),
        )) as { data?: unknown };
        const { items, totalPages } = parsePage(res.data);
        out.push(...items);
        if (items.length < ORDERS_PER_PAGE || (totalPages !== null && page + 1 >= totalPages)) break;
      }
      return out;
    },
    futures: async (symbols) => {
      if (symbols.length === 0) return [];
      const items = await call('futures', () => client.instrumentsService.getFutures({ symbol: symbols }));
      return Array.isArray(items) ? items : [];
    },
    marketMetrics: async (symbols) => {
      if (symbols.length === 0) return [];
      const items = await call('market-metrics', () => client.marketMetricsService.getMarketMetrics({ symbols: symbols.join(',') }));
      return Array.isArray(items) ? items : [];
    },
    accessToken: async () => {
      if (client.httpClient.needsTokenRefresh || !client.httpClient.authHeader) await call('oauth', () => client.httpClient.generateAccessToken());
      const header = client.httpClient.authHeader;
      if (!header) throw new TastyRestError('Tastytrade OAuth gave no access token', 'auth');
      return header;
    },
    streamerSymbolOf: async (kind, symbol) => {
      const path = kind === 'future' ? `/instruments/futures/${encodeURIComponent(symbol.replace(/^\//, ''))}` : `/instruments/future-options/${encodeURIComponent(symbol)}`;
      try {
        const res = (await call('instrument', () => client.httpClient.getData(path))) as { data?: { data?: Record<string, unknown> } };
        const s = res.data?.data?.['streamer-symbol'];
        return typeof s === 'string' && s ? s : null;
      } catch (err) {
        if (err instanceof TastyRestError && err.status === 404) return null;
        throw err;
      }
    },
    stats: () => ({ requests, retries, waitingUntil: gateUntil > clock.now() ? gateUntil : null }),
    close() {
      closed = true;
      for (const w of [...waiters]) w();
    },
  };
}

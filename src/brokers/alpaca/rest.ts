/**
 * Alpaca REST through the SDK's generated API classes (@alpacahq/alpaca-trade-api 4.x:
 * trading.PositionsApi/AccountsApi/AssetsApi, marketData.OptionApi), configured with explicit
 * base URLs and our fetch. The SDK's own throttle, retries and timeout are off: they run on real
 * timers; the request budget, 429 cooldown and timeout here run on the stream's Clock (D41).
 */
import { marketData, trading } from '@alpacahq/alpaca-trade-api';
import { sleep, type Clock } from '../../core/clock.js';
import type { AlpacaConfig } from './config.js';

export type Position = trading.Position;
export type OptionContract = trading.OptionContract;
export type OptionSnapshot = marketData.OptionSnapshot;

/** Alpaca refused the keys: terminal, the message says how to fix it. */
export class AlpacaAuthError extends Error {
  constructor(readonly status: number, what: string) {
    super(`Alpaca rejected the API keys (${status} on ${what}): check ALPACA_KEY_ID / ALPACA_SECRET_KEY and ALPACA_PAPER (paper keys work only with paper)`);
    this.name = 'AlpacaAuthError';
  }
}

/**
 * The request budget on the Clock: at most `perMinute` requests in any 60-second window (a
 * sliding window, not a bucket: a full bucket would allow its size plus a minute of refill in
 * one window), and none during a 429 cooldown.
 */
export class RestBudget {
  /** Times of the last `perMinute` requests, oldest first. */
  private readonly times: number[] = [];
  private cooldownUntil = 0;
  /** Requests let through. */
  taken = 0;
  waits = 0;

  constructor(private readonly clock: Clock, readonly perMinute: number) {}

  /** Milliseconds until a request may go (0 = now). */
  waitMs(): number {
    const now = this.clock.now();
    const cool = Math.max(0, this.cooldownUntil - now);
    const window = this.times.length < this.perMinute ? 0 : Math.max(0, this.times[0]! + 60_000 - now);
    return Math.max(cool, window);
  }

  async take(): Promise<void> {
    for (let w = this.waitMs(); w > 0; w = this.waitMs()) {
      this.waits++;
      await sleep(this.clock, w);
    }
    this.times.push(this.clock.now());
    if (this.times.length > this.perMinute) this.times.shift();
    this.taken++;
  }

  /** The server said 429: nothing goes for `ms`. */
  cooldown(ms: number): void {
    this.cooldownUntil = Math.max(this.cooldownUntil, this.clock.now() + ms);
  }
}

export interface AlpacaRest {
  account(): Promise<{ accountNumber: string }>;
  positions(): Promise<Position[]>;
  contract(symbol: string): Promise<OptionContract>;
  /** ≤ 100 symbols; every page of the answer. */
  snapshots(symbols: string[]): Promise<Record<string, OptionSnapshot>>;
  readonly budget: RestBudget;
  readonly stats: { calls: number; rateLimited: number; errors: number };
}

const statusOf = (err: unknown): number | undefined => {
  const s = (err as { status?: unknown; response?: { status?: unknown } }).status ?? (err as { response?: { status?: unknown } }).response?.status;
  return typeof s === 'number' ? s : undefined;
};

export function createAlpacaRest(config: AlpacaConfig, clock: Clock, fetchImpl: typeof fetch = fetch): AlpacaRest {
  const budget = new RestBudget(clock, config.restPerMinute);
  const stats = { calls: 0, rateLimited: 0, errors: 0 };
  // Our fetch: the timeout runs on the Clock (the SDK's own deadline is off).
  const fetchApi = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const ctl = new AbortController();
    const timer = clock.setTimeout(() => ctl.abort(new Error(`no answer within ${config.restTimeoutMs} ms`)), config.restTimeoutMs);
    init?.signal?.addEventListener('abort', () => ctl.abort(init.signal?.reason));
    return fetchImpl(input, { ...init, signal: ctl.signal }).finally(() => clock.clearTimeout(timer));
  };
  const common = { keyId: config.keyId, secret: config.secretKey, fetchApi, timeoutMs: 0, userAgent: 'riskwire' };
  const tradingConf = new trading.Configuration({ ...common, basePath: config.apiUrl });
  const dataConf = new marketData.Configuration({ ...common, basePath: config.dataUrl });
  const accounts = new trading.AccountsApi(tradingConf);
  const positions = new trading.PositionsApi(tradingConf);
  const assets = new trading.AssetsApi(tradingConf);
  const options = new marketData.OptionApi(dataConf);

  async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    await budget.take();
    stats.calls++;
    try {
      return await fn();
    } catch (err) {
      stats.errors++;
      const status = statusOf(err);
      if (status === 401 || status === 403) throw new AlpacaAuthError(status, what);
      if (status === 429) {
        stats.rateLimited++;
        const after = (err as { retryAfterMs?: unknown }).retryAfterMs;
        budget.cooldown(typeof after === 'number' && after > 0 ? Math.min(after, 60_000) : 5_000);
      }
      throw new Error(`${what}: ${status ? `HTTP ${status} ` : ''}${(err as Error).message}`);
    }
  }

  return {
    budget,
    stats,
    account: async () => {
      const a = await call('GET /v2/account', () => accounts.getAccount());
      return { accountNumber: a.accountNumber ?? a.id };
    },
    positions: () => call('GET /v2/positions', () => positions.getAllOpenPositions()),
    contract: (symbol) => call(`GET /v2/options/contracts/${symbol}`, () => assets.getOptionContractSymbolOrId({ symbolOrId: symbol })),
    snapshots: async (symbols) => {
      if (symbols.length > 100) throw new Error(`snapshots: ${symbols.length} symbols in one call (max 100)`);
      const out: Record<string, OptionSnapshot> = {};
      let pageToken: string | undefined;
      do {
        const page = await call('GET /v1beta1/options/snapshots', () => options.optionSnapshots({ symbols: symbols.join(','), ...(config.snapshotFeed ? { feed: config.snapshotFeed as never } : {}), ...(pageToken ? { pageToken } : {}) }));
        Object.assign(out, page.snapshots ?? {});
        pageToken = page.nextPageToken ?? undefined;
      } while (pageToken);
      return out;
    },
  };
}

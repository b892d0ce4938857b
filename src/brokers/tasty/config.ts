import { ConfigError, missingEnv } from '../../core/errors.js';
import { envInt } from '../../core/env.js';
import type { PluginFlags } from '../types.js';

export const PROD_API_URL = 'https://api.tastyworks.com';
export const SANDBOX_API_URL = 'https://api.cert.tastyworks.com';
export const PROD_ACCOUNT_STREAMER_URL = 'wss://streamer.tastyworks.com';
export const SANDBOX_ACCOUNT_STREAMER_URL = 'wss://streamer.cert.tastyworks.com';

/** Everything the tasty plugin needs. Plain data: it crosses into the worker thread. */
export interface TastyConfig {
  apiUrl: string;
  clientSecret: string;
  refreshToken: string;
  /** Empty = every account of the login. */
  accounts: string[];
  /**
   * --only-account (ingest --cluster, D82): stream this account only, and name it on every greeks
   * event so the rows reach only its positions (another member streams the others).
   */
  onlyAccount?: string;
  /** How often positions are re-read over REST. */
  positionsPollMs: number;
  /** How often /market-metrics is read for held and watched underlyings (MARKET_METRICS_POLL_MS); 0 = never. */
  marketMetricsPollMs?: number;
  /** Inbound silence (any message, KEEPALIVE included) after which the feed is rebuilt. */
  keepaliveTimeoutMs: number;
  /** DXLink acceptAggregationPeriod in seconds. */
  aggregationPeriod: number;
  /** Max subscriptions per FEED_SUBSCRIPTION message (large books would otherwise hit close 1009). */
  subscriptionChunk: number;
  /** Pause between two FEED_SUBSCRIPTION messages: a big book goes out chunked and paced. */
  subscriptionPaceMs: number;
  /** A REST call that has not answered after this long counts as failed (and is retried). */
  restTimeoutMs: number;
  oauthScopes: string[];
  /**
   * Account streamer (fills → trades, position changes → immediate refresh). null = not used:
   * a custom TASTY_API_URL without TASTY_ACCOUNT_STREAMER_URL has none (simulators without one).
   */
  accountStreamerUrl: string | null;
}

/** TASTY_ACCOUNT_STREAMER_URL wins; else the real streamer of the real production/sandbox API; else none. */
export function accountStreamerUrlFor(apiUrl: string, explicit: string | undefined): string | null {
  const e = explicit?.trim();
  if (e) {
    if (!/^wss?:\/\//.test(e)) throw new ConfigError(`TASTY_ACCOUNT_STREAMER_URL="${e}" must be ws(s)://: use e.g. ${PROD_ACCOUNT_STREAMER_URL}`);
    return e;
  }
  if (apiUrl === PROD_API_URL) return PROD_ACCOUNT_STREAMER_URL;
  if (apiUrl === SANDBOX_API_URL) return SANDBOX_ACCOUNT_STREAMER_URL;
  return null;
}

export function parseTastyConfig(env: Record<string, string | undefined>, flags: PluginFlags = {}): TastyConfig {
  const sandbox = flags.sandbox === true || flags.sandbox === 'true' || flags.sandbox === '1';
  const rawUrl = env.TASTY_API_URL || (sandbox ? SANDBOX_API_URL : PROD_API_URL);
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new ConfigError(`TASTY_API_URL="${rawUrl}" is not a URL: use e.g. ${PROD_API_URL}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`TASTY_API_URL="${rawUrl}" must be http(s): use e.g. ${PROD_API_URL}`);
  }
  const missing = ['TASTY_CLIENT_SECRET', 'TASTY_REFRESH_TOKEN'].filter((k) => !env[k]?.trim());
  if (missing.length > 0) throw missingEnv(missing, 'the tasty broker (Tastytrade OAuth)');
  const apiUrl = rawUrl.replace(/\/+$/, '');
  const only = typeof flags['only-account'] === 'string' ? flags['only-account'].trim() : '';
  if (flags['only-account'] !== undefined && !only) throw new ConfigError('--only-account needs an account number: use e.g. --only-account=5WT00001');
  return {
    apiUrl,
    clientSecret: env.TASTY_CLIENT_SECRET!.trim(),
    refreshToken: env.TASTY_REFRESH_TOKEN!.trim(),
    accounts: only ? [only] : (env.TASTY_ACCOUNTS ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    ...(only ? { onlyAccount: only } : {}),
    positionsPollMs: envInt(env, 'TASTY_POSITIONS_POLL_MS', 60_000, 100, 3_600_000),
    marketMetricsPollMs: envInt(env, 'MARKET_METRICS_POLL_MS', 300_000, 0, 86_400_000),
    keepaliveTimeoutMs: envInt(env, 'TASTY_KEEPALIVE_TIMEOUT_MS', 60_000, 1_000, 600_000),
    aggregationPeriod: 0.1,
    subscriptionChunk: envInt(env, 'TASTY_SUBSCRIPTION_CHUNK', 500, 1, 100_000),
    subscriptionPaceMs: envInt(env, 'TASTY_SUBSCRIPTION_PACE_MS', 100, 0, 10_000),
    restTimeoutMs: envInt(env, 'TASTY_REST_TIMEOUT_MS', 15_000, 100, 600_000),
    oauthScopes: ['read'],
    accountStreamerUrl: accountStreamerUrlFor(apiUrl, env.TASTY_ACCOUNT_STREAMER_URL),
  };
}

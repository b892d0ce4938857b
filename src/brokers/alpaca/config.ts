import { ConfigError, missingEnv } from '../../core/errors.js';
import { envInt } from '../../core/env.js';
import type { PluginFlags } from '../types.js';

export const PAPER_API_URL = 'https://paper-api.alpaca.markets';
export const LIVE_API_URL = 'https://api.alpaca.markets';
export const DATA_URL = 'https://data.alpaca.markets';
export const STREAM_URL = 'wss://stream.data.alpaca.markets';

/** Everything the alpaca plugin needs. Plain data: it crosses into the worker thread. */
export interface AlpacaConfig {
  keyId: string;
  secretKey: string;
  paper: boolean;
  /** Trading REST base (positions, contracts, account). */
  apiUrl: string;
  /** Market-data REST base (option snapshots). */
  dataUrl: string;
  /** Market-data WebSocket base; the stock stream is `${streamUrl}/v2/${stockFeed}`, options `/v1beta1/${optionFeed}`. */
  streamUrl: string;
  /** trade_updates WebSocket. */
  tradingStreamUrl: string;
  stockFeed: 'iex' | 'sip' | 'delayed_sip' | 'test';
  optionFeed: 'indicative' | 'opra';
  /** `feed` of the snapshot calls: only when ALPACA_OPTION_FEED is set (else Alpaca picks opra when subscribed, else indicative). */
  snapshotFeed: 'indicative' | 'opra' | null;
  greeksPollMs: number;
  positionsPollMs: number;
  /** REST calls in any 60 s window this plugin allows itself (the account limit is about 200/min). */
  restPerMinute: number;
  restTimeoutMs: number;
  /** A stream with no frame and no pong for this long is rebuilt. */
  silenceMs: number;
}

function url(env: Record<string, string | undefined>, name: string, dflt: string, protocols: string[]): string {
  const raw = env[name]?.trim() || dflt;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`${name}="${raw}" is not a URL: use e.g. ${dflt}`);
  }
  if (!protocols.includes(u.protocol)) throw new ConfigError(`${name}="${raw}" must be ${protocols.map((p) => p.replace(':', '')).join(' or ')}: use e.g. ${dflt}`);
  return raw.replace(/\/+$/, '');
}

function choice<T extends string>(env: Record<string, string | undefined>, name: string, options: readonly T[], dflt: T): T {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw) return dflt;
  if (!(options as readonly string[]).includes(raw)) throw new ConfigError(`${name}="${raw}" is not valid: use ${options.join(' or ')}`);
  return raw as T;
}

/** The trade_updates URL of a trading REST base: wss://<host>/stream (http → ws for local simulators). */
export function tradingStreamFor(apiUrl: string): string {
  return `${apiUrl.replace(/^http/, 'ws')}/stream`;
}

export function parseAlpacaConfig(env: Record<string, string | undefined>, _flags: PluginFlags = {}): AlpacaConfig {
  const paperRaw = env.ALPACA_PAPER?.trim();
  if (paperRaw && !['0', '1', 'true', 'false'].includes(paperRaw)) throw new ConfigError(`ALPACA_PAPER="${paperRaw}" is not valid: use 1 (paper) or 0 (live)`);
  const paper = !paperRaw || paperRaw === '1' || paperRaw === 'true';
  const missing = ['ALPACA_KEY_ID', 'ALPACA_SECRET_KEY'].filter((k) => !env[k]?.trim());
  if (missing.length > 0) throw missingEnv(missing, `the alpaca broker (API keys from the ${paper ? 'paper' : 'live'} dashboard)`);
  const apiUrl = url(env, 'ALPACA_API_URL', paper ? PAPER_API_URL : LIVE_API_URL, ['https:', 'http:']);
  return {
    keyId: env.ALPACA_KEY_ID!.trim(),
    secretKey: env.ALPACA_SECRET_KEY!.trim(),
    paper,
    apiUrl,
    dataUrl: url(env, 'ALPACA_DATA_URL', DATA_URL, ['https:', 'http:']),
    streamUrl: url(env, 'ALPACA_STREAM_URL', STREAM_URL, ['wss:', 'ws:']),
    tradingStreamUrl: url(env, 'ALPACA_TRADING_STREAM_URL', tradingStreamFor(apiUrl), ['wss:', 'ws:']),
    stockFeed: choice(env, 'ALPACA_STOCK_FEED', ['iex', 'sip', 'delayed_sip', 'test'] as const, 'iex'),
    optionFeed: choice(env, 'ALPACA_OPTION_FEED', ['indicative', 'opra'] as const, 'indicative'),
    snapshotFeed: env.ALPACA_OPTION_FEED?.trim() ? choice(env, 'ALPACA_OPTION_FEED', ['indicative', 'opra'] as const, 'indicative') : null,
    greeksPollMs: envInt(env, 'ALPACA_GREEKS_POLL_MS', 5_000, 50, 3_600_000),
    positionsPollMs: envInt(env, 'ALPACA_POSITIONS_POLL_MS', 60_000, 100, 3_600_000),
    restPerMinute: envInt(env, 'ALPACA_REST_RATE', 180, 1, 10_000),
    restTimeoutMs: envInt(env, 'ALPACA_REST_TIMEOUT_MS', 15_000, 100, 600_000),
    silenceMs: envInt(env, 'ALPACA_SILENCE_MS', 30_000, 50, 600_000),
  };
}

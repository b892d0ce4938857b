/**
 * Messages between the pipeline's thread (host.ts) and the API thread (worker.ts), D73. The
 * pipeline's live state travels as one `state` message every STATE_EVERY_MS (and right before
 * the answer to a call that changed it), never per request; latest Greeks and alerts are
 * forwarded only while a page listens, conflated per position.
 */
import type { ActorStatus } from '../../actors/supervisor.js';
import type { LatestGreeks, ProcessorStats } from '../../core/processor.js';
import type { PostgresTarget } from '../../db/driver.js';
import type { QuoteRow } from '../../core/types.js';
import type { WatchSymbol } from '../../quotes/symbols.js';
import type { RedisSinkStats } from '../../redis/sink.js';
import type { AlertJson } from '../riskPort.js';
import type { ApiLimits } from '../limits.js';

export const STATE_EVERY_MS = 250;
export const LATEST_EVERY_MS = 250;

export interface PipelineState {
  stats: ProcessorStats;
  latency: { buckets: readonly number[]; count: number; sumMs: number };
  actors: ActorStatus[];
  watchlist: WatchSymbol[];
  /** The newest streamed quote of each watched symbol (the status document's freshness). */
  watchedQuotes: QuoteRow[];
  redis?: RedisSinkStats;
  cluster?: unknown;
}

export interface ApiThreadInit {
  target: PostgresTarget;
  limits: Required<ApiLimits>;
  host: string;
  port: number;
  token?: string;
  quoteTtlMs?: number;
  actorFlags?: Record<string, string | boolean | undefined>;
  logName: string;
  logLevel: string;
  /** Added to this thread's nice value (API_THREAD_NICE; Linux). */
  nice: number;
  /** The host has a risk engine (routes and alerts are answered by it over calls). */
  risk: boolean;
  state: PipelineState;
}

/** What the API thread may ask the pipeline's thread to do. */
export type CallMethod =
  | 'startActor' | 'stopActor' | 'setWatchlist' | 'acceptTrade' | 'latestQuotes'
  | 'riskPositions' | 'riskSummary' | 'riskScenarios' | 'riskMetrics';

export interface WireError {
  name: string;
  message: string;
  code?: string;
  retryable?: boolean;
  statusCode?: number;
  headers?: Record<string, string>;
}

export type ToApi =
  | { t: 'state'; state: PipelineState }
  | { t: 'reply'; id: number; value?: unknown; error?: WireError }
  | { t: 'latest'; rows: LatestGreeks[]; full: boolean }
  | { t: 'alert'; alert: AlertJson }
  | { t: 'close' };

export type FromApi =
  | { t: 'listening'; address: string; port: number; family: string; tid?: number }
  | { t: 'failed'; error: WireError }
  | { t: 'call'; id: number; method: CallMethod; args: unknown[] }
  | { t: 'latest'; on: boolean }
  | { t: 'alerts'; on: boolean }
  | { t: 'closed' };

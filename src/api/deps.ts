/**
 * What the HTTP API is built from (buildApi in app.ts, and every route module): in a file of its
 * own so route modules import it without importing app.ts, which imports them (no import cycle).
 */
import type { Logger } from 'pino';
import type { Pipeline } from '../app/pipeline.js';
import type { Clock } from '../core/clock.js';
import type { Storage } from '../db/types.js';
import type { QuoteRow } from '../core/types.js';
import type { RiskService } from '../risk/service.js';
import type { QuoteService } from '../quotes/service.js';
import type { ApiLimits } from './limits.js';
import type { Registry } from './metrics.js';

export interface ApiDeps {
  pipeline: Pick<Pipeline, 'processor' | 'supervisor' | 'startActor' | 'stopActor'> & Partial<Pick<Pipeline, 'redis'>>;
  storage: Storage;
  /**
   * Where GET routes read (openReadStorage: a small pool of its own with a statement timeout),
   * so API queries never queue on the writer's connections. Default: `storage`.
   */
  reader?: Storage;
  log: Logger;
  /** When set, every route needs `Authorization: Bearer <token>`. */
  token?: string;
  /** serve --cluster: the member's view, added to /v1/streaming/status as `cluster` (from memory, no query). */
  cluster?: { view(): unknown };
  /** Plugin flags for actors started through POST /v1/streaming/start (e.g. the sim's --rate). */
  actorFlags?: Record<string, string | boolean | undefined>;
  /** Timers of the request timeout, /v1/events and its tickets; tests pass a FakeClock. */
  clock?: Clock;
  /** "now" for relative timeline ranges; tests pin it. */
  now?: () => number;
  /**
   * The prom-client registry behind GET /metrics. buildApi makes one when absent and registers
   * the pipeline families on it; route modules add their own (see src/api/metrics/registry.ts).
   */
  metrics?: Registry;
  /** Concurrency limit, request timeout, statement timeout (default: readApiLimits() from the environment). */
  limits?: ApiLimits;
  /** The risk engine (serve starts it with the alert loop); made on first use, without the loop, when absent. */
  risk?: RiskService;
  /** The quote cache (/v1/quotes); made on first use from the environment's broker credentials when absent. */
  quotes?: QuoteService;
  /** The pipeline's in-memory quotes for /v1/quotes when they live in another thread (default: processor.latestQuotes). */
  quoteMemory?: (symbols: string[]) => Promise<QuoteRow[]>;
  /** The risk engine's /metrics families when it lives in another thread (default: riskMetrics(risk)). */
  riskMetricsText?: () => Promise<string>;
  /** Cumulative CPU ms of the thread serving the API (threadCpuMeter): API_CPU_BUDGET_PCT applies only with it. */
  cpuMeter?: () => number;
  /** QUOTE_TTL_MS (default from the environment, else 3000). */
  quoteTtlMs?: number;
}

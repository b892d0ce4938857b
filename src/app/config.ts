import { join, resolve } from 'node:path';
import { envInt } from '../cli/args.js';
import { ConfigError } from '../core/errors.js';
import type { FlushOptions } from '../core/flushPolicy.js';
import { indexSymbols, parseWatchlist, type WatchSymbol } from '../quotes/symbols.js';

/** Process-wide settings from the environment (interface.md, "Environment"). */
export interface AppConfig {
  databaseUrl: string | undefined;
  /** DATA_DIR (absolute): everything local lives under it. */
  dataDir: string;
  /** PGLITE_DIR when set: the single-process PGlite backend instead of the shared embedded server. */
  pgliteDir: string | undefined;
  /** The shared embedded PostgreSQL of the real record: DATA_DIR/pg. */
  embeddedDir: string;
  journalDir: string;
  /** RETENTION_DAYS: greek_snapshots days older than this are dropped; 0 keeps everything. */
  retentionDays: number;
  flush: Partial<FlushOptions>;
  /** How long a stop waits for the database to take every row before journaling the rest (SHUTDOWN_DRAIN_MS). */
  shutdownDrainMs?: number;
  /** How long POST /v1/trades waits for the database before journaling the trade and answering 202 (TRADE_ACCEPT_WAIT_MS). */
  tradeAcceptWaitMs?: number;
  /** REDIS_URL: the optional Redis fan-out (src/redis); unset = none. */
  redisUrl?: string;
  /** WATCHLIST: symbols streamed whether held or not (specs/quotes.md). Optional so older callers still typecheck. */
  watchlist?: WatchSymbol[];
  /** QUOTE_TTL_MS: a quote older than this is stale and REST is asked (default 3000). */
  quoteTtlMs?: number;
  /** QUOTE_REST_PER_SEC: most REST quote requests per second, per broker (default 2). */
  quoteRestPerSec?: number;
  /** ingest --cluster: lease length (CLUSTER_LEASE_MS, default 15000) and heartbeat (CLUSTER_HEARTBEAT_MS, default 5000, under half the lease). */
  clusterLeaseMs?: number;
  clusterHeartbeatMs?: number;
  /**
   * BACKPRESSURE_ROWS: past this many snapshot rows waiting for the writer, actors stop being
   * acknowledged (their sources wait; nothing is dropped) until the queue is below it again.
   */
  backpressureRows?: number;
  /** WRITER_THREAD=1: snapshot batches are rendered and written by a worker thread with its own connections (PostgreSQL only; default off, D51). */
  writerThread?: boolean;
}

export const DEFAULT_DATA_DIR = './.data';

export function readAppConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const dataDir = resolve(env.DATA_DIR?.trim() || DEFAULT_DATA_DIR);
  return {
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    dataDir,
    pgliteDir: env.PGLITE_DIR?.trim() || undefined,
    embeddedDir: join(dataDir, 'pg'),
    journalDir: env.JOURNAL_DIR?.trim() || join(dataDir, 'journal'),
    retentionDays: envInt(env, 'RETENTION_DAYS', 0, 0, 36_500),
    shutdownDrainMs: envInt(env, 'SHUTDOWN_DRAIN_MS', 5_000, 0, 600_000),
    tradeAcceptWaitMs: envInt(env, 'TRADE_ACCEPT_WAIT_MS', 2_000, 1, 60_000),
    redisUrl: redisUrl(env.REDIS_URL),
    watchlist: parseWatchlist(env.WATCHLIST, indexSymbols(env)),
    quoteTtlMs: envInt(env, 'QUOTE_TTL_MS', 3_000, 1, 86_400_000),
    quoteRestPerSec: envInt(env, 'QUOTE_REST_PER_SEC', 2, 1, 1000),
    clusterLeaseMs: envInt(env, 'CLUSTER_LEASE_MS', 15_000, 1_000, 600_000),
    clusterHeartbeatMs: envInt(env, 'CLUSTER_HEARTBEAT_MS', 5_000, 200, 300_000),
    backpressureRows: envInt(env, 'BACKPRESSURE_ROWS', 25_000, 100, 10_000_000),
    writerThread: env.WRITER_THREAD === '1',
    flush: {
      intervalMs: envInt(env, 'FLUSH_INTERVAL_MS', 1000, 1, 60_000),
      maxRows: envInt(env, 'FLUSH_MAX_ROWS', 50, 1, 100_000),
      maxInFlight: envInt(env, 'FLUSH_MAX_IN_FLIGHT', 8, 1, 64),
      maxBatchRows: envInt(env, 'FLUSH_MAX_BATCH_ROWS', 500, 1, 100_000),
      maxPendingRows: envInt(env, 'FLUSH_MAX_PENDING_ROWS', 50_000, 100, 10_000_000),
      eagerWhenIdle: env.FLUSH_EAGER !== '0',
    },
  };
}

/** REDIS_URL must be a redis:// or rediss:// URL (one-line error, exit 2 otherwise). */
function redisUrl(raw: string | undefined): string | undefined {
  const url = raw?.trim();
  if (!url) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') || !parsed.hostname) {
    throw new ConfigError('REDIS_URL must look like redis://HOST:PORT[/DB] (or rediss:// for TLS); unset it to run without Redis');
  }
  return url;
}

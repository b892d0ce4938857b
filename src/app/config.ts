import { join, resolve } from 'node:path';
import { envInt } from '../cli/args.js';
import type { FlushOptions } from '../core/flushPolicy.js';

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

/**
 * The storage entry point: `openStorage()` picks the backend (PostgreSQL at DATABASE_URL when
 * given; else PGlite when PGLITE_DIR is given; else the shared embedded PostgreSQL in
 * DATA_DIR/pg, started on demand), checks the connection, migrates and makes the partitions
 * around today. Callers get a ready Storage or a one-line ConfigError.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock.js';
import type { SqlDriver } from './driver.js';
import { createPgliteDriver } from './driver-pglite.js';
import { createPostgresDriver } from './driver-postgres.js';
import { envInt } from '../core/env.js';
import { describeTarget, parseDatabaseUrl, unreachableDatabase, unusablePgliteDir } from './config.js';
import { ensureEmbedded } from './embedded/server.js';
import { migrate } from './migrate.js';
import { toStorageError } from './errors.js';
import { createStorage } from './storage.js';
import type { Storage } from './types.js';

export const DEFAULT_EMBEDDED_DIR = './.data/pg';

export type { Storage, WriteResult, SnapshotRecord, SnapshotFilter, PositionRecord, TradeFilter } from './types.js';
export { StorageError, isRetryableError, isRowRejection } from './errors.js';

export interface OpenStorageOptions {
  /** PostgreSQL URL (usually process.env.DATABASE_URL). Empty or unset = embedded. */
  databaseUrl?: string;
  /** PGlite folder (PGLITE_DIR; one process at a time) or `memory://` for throwaway use. */
  pgliteDir?: string;
  /** The shared embedded PostgreSQL's folder (DATA_DIR/pg), used when neither of the above is set. */
  embeddedDir?: string;
  log: Logger;
  clock?: Clock;
  /** postgres.js pool size (default 10). */
  maxConnections?: number;
  /** Seconds to wait for a PostgreSQL connection before giving up (default DB_CONNECT_TIMEOUT_MS, 5 s). */
  connectTimeoutSec?: number;
  /** statement_timeout + lock_timeout of every session, and the client's deadline (default DB_STATEMENT_TIMEOUT_MS, 15 s). */
  statementTimeoutMs?: number;
  /** RETENTION_DAYS: drop greek_snapshots days older than this (checked every 6 h); 0 keeps all. */
  retentionDays?: number;
}

/** DB_CONNECT_TIMEOUT_MS (default 5000) and DB_STATEMENT_TIMEOUT_MS (default 15000; 0 = none): specs/reliability.md. */
export function dbTimeouts(env: Record<string, string | undefined>): { connectTimeoutSec: number; statementTimeoutMs: number } {
  return {
    connectTimeoutSec: envInt(env, 'DB_CONNECT_TIMEOUT_MS', 5000, 100, 600_000) / 1000,
    statementTimeoutMs: envInt(env, 'DB_STATEMENT_TIMEOUT_MS', 15_000, 0, 3_600_000),
  };
}

async function connectPostgres(raw: string, opts: OpenStorageOptions): Promise<SqlDriver> {
  const url = parseDatabaseUrl(raw);
  const t = dbTimeouts(process.env);
  const driver = createPostgresDriver(raw, {
    max: opts.maxConnections,
    connectTimeoutSec: opts.connectTimeoutSec ?? t.connectTimeoutSec,
    statementTimeoutMs: opts.statementTimeoutMs ?? t.statementTimeoutMs,
    clock: opts.clock,
  });
  try {
    await driver.query('SELECT 1');
  } catch (err) {
    await driver.close().catch(() => {});
    throw unreachableDatabase(url, err);
  }
  return driver;
}

async function openDriver(opts: OpenStorageOptions): Promise<SqlDriver> {
  const raw = opts.databaseUrl?.trim();
  if (raw) {
    const driver = await connectPostgres(raw, opts);
    opts.log.info({ target: describeTarget(parseDatabaseUrl(raw)) }, 'connected to PostgreSQL');
    return driver;
  }
  const dir = opts.pgliteDir?.trim();
  if (!dir) {
    const embeddedDir = opts.embeddedDir ?? DEFAULT_EMBEDDED_DIR;
    const server = await ensureEmbedded(embeddedDir);
    const driver = await connectPostgres(server.url, opts);
    opts.log.info({ dir: embeddedDir, port: server.port, started: server.started }, server.started ? 'started the embedded PostgreSQL' : 'connected to the running embedded PostgreSQL');
    return driver;
  }
  try {
    const driver = await createPgliteDriver(dir);
    opts.log.info({ dir }, 'opened embedded PGlite database');
    return driver;
  } catch (err) {
    throw unusablePgliteDir(dir, err);
  }
}

export async function openStorage(opts: OpenStorageOptions): Promise<Storage> {
  const clock = opts.clock ?? systemClock;
  const driver = await openDriver(opts);
  try {
    await migrate(driver, opts.log);
  } catch (err) {
    await driver.close().catch(() => {});
    throw toStorageError(err, 'migrate');
  }
  const storage = createStorage(driver, { log: opts.log, clock, retentionDays: opts.retentionDays });
  try {
    await storage.ensurePartitions(clock.now());
  } catch (err) {
    await storage.close().catch(() => {});
    throw err;
  }
  return storage;
}

export interface OpenReaderOptions {
  databaseUrl?: string;
  log: Logger;
  clock?: Clock;
  /** Connections of the read pool (default 4). */
  maxConnections?: number;
  /** statement_timeout of every read on it (ms). */
  statementTimeoutMs: number;
}

/**
 * A second, small pool for the API's reads (PostgreSQL only), so a burst of API queries waits
 * for its own connections and never for the writer's, and each read is bounded by a statement
 * timeout. The database must already be open (and migrated) through openStorage. For the
 * embedded database there is one connection in this process: undefined, use the main Storage.
 */
export async function openReadStorage(opts: OpenReaderOptions): Promise<Storage | undefined> {
  const raw = opts.databaseUrl?.trim();
  if (!raw) return undefined;
  const driver = createPostgresDriver(raw, {
    max: opts.maxConnections ?? 2, statementTimeoutMs: opts.statementTimeoutMs, applicationName: 'riskwire-api', serial: true,
  });
  return createStorage(driver, { log: opts.log, clock: opts.clock ?? systemClock, maintenance: false });
}

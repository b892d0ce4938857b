/**
 * The storage entry point: `openStorage()` picks the backend (PostgreSQL when a DATABASE_URL is
 * given, embedded PGlite otherwise), checks the connection, migrates and makes the partitions
 * around today. Callers get a ready Storage or a one-line ConfigError.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock.js';
import type { SqlDriver } from './driver.js';
import { createPgliteDriver } from './driver-pglite.js';
import { createPostgresDriver } from './driver-postgres.js';
import { describeTarget, parseDatabaseUrl, unreachableDatabase, unusablePgliteDir } from './config.js';
import { migrate } from './migrate.js';
import { toStorageError } from './errors.js';
import { createStorage } from './storage.js';
import type { Storage } from './types.js';

export type { Storage, WriteResult, SnapshotRecord, SnapshotFilter, PositionRecord, TradeFilter } from './types.js';
export { StorageError, isRetryableError } from './errors.js';

export const DEFAULT_PGLITE_DIR = './.data/pglite';

export interface OpenStorageOptions {
  /** PostgreSQL URL (usually process.env.DATABASE_URL). Empty or unset = embedded PGlite. */
  databaseUrl?: string;
  /** Embedded database folder (PGLITE_DIR), default ./.data/pglite; `memory://` for throwaway use. */
  pgliteDir?: string;
  log: Logger;
  clock?: Clock;
  /** postgres.js pool size (default 10). */
  maxConnections?: number;
  /** Seconds to wait for a PostgreSQL connection before giving up (default 5). */
  connectTimeoutSec?: number;
  /** RETENTION_DAYS: drop greek_snapshots days older than this (checked every 6 h); 0 keeps all. */
  retentionDays?: number;
}

async function openDriver(opts: OpenStorageOptions): Promise<SqlDriver> {
  const raw = opts.databaseUrl?.trim();
  if (raw) {
    const url = parseDatabaseUrl(raw);
    const driver = createPostgresDriver(raw, { max: opts.maxConnections, connectTimeoutSec: opts.connectTimeoutSec });
    try {
      await driver.query('SELECT 1');
    } catch (err) {
      await driver.close().catch(() => {});
      throw unreachableDatabase(url, err);
    }
    opts.log.info({ target: describeTarget(url) }, 'connected to PostgreSQL');
    return driver;
  }
  const dir = opts.pgliteDir?.trim() || DEFAULT_PGLITE_DIR;
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
    max: opts.maxConnections ?? 4, statementTimeoutMs: opts.statementTimeoutMs, applicationName: 'riskwire-api',
  });
  return createStorage(driver, { log: opts.log, clock: opts.clock ?? systemClock, maintenance: false });
}

/**
 * Storage over an SqlDriver: the same code and SQL for PostgreSQL and PGlite. Every method turns
 * driver failures into StorageError (retryable or not) and does one statement per batch.
 */
import type { Logger } from 'pino';
import { MARKET_METRICS_UPSERT_SQL, marketMetricParams } from './marketMetrics.js';
import type { Clock } from '../core/clock.js';
import type { GreekSnapshot, Position, QuoteRow, TradeRow } from '../core/types.js';
import type { SqlDriver } from './driver.js';
import { isLostConnection, isMissingPartition, toStorageError } from './errors.js';
import { daysAround, distinctDays, dropPartitionsOlderThan, ensureDayPartitions } from './partitions.js';
import { drizzleOver } from './drizzle.js';
import { dropRollupBefore, ROLLUP_INTERVAL_MS, rollupIncremental } from './rollup.js';
import { POSITION_SET_CLAIM_SQL, POSITIONS_DELETE_CLOSED_SQL, POSITIONS_UPSERT_SQL, positionParams, validatePositions } from './positions.js';
import { listAlerts, listPositions, listSnapshots, listTrades } from './queries.js';
import { SNAPSHOT_INSERT_SQL, buildLatestQuery, snapshotParams, validateSnapshots } from './snapshots.js';
import { SNAPSHOT_COPY_SQL, encodeSnapshotsBinary } from './snapshotCopy.js';
import { QUOTES_SELECT_SQL, QUOTES_UPSERT_SQL, latestPerSymbol, quoteFromDb, quoteParams, validateQuotes } from './quotes.js';
import { TRADES_INSERT_SQL, tradeParams, validateTrades } from './trades.js';
import type { PositionRecord, SnapshotRecord, Storage, WriteResult } from './types.js';

/** After a COPY met a stored row, snapshot batches use the idempotent insert for this long. */
const COPY_PAUSE_MS = 10_000;

const codeOf = (err: unknown): string | undefined =>
  err && typeof err === 'object' && typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : undefined;

/** Partitions are topped up this often, so a long-running process never relies on create-on-demand at midnight. */
const PARTITION_REFRESH_MS = 6 * 3_600_000;

export interface StorageOptions {
  log: Logger;
  clock: Clock;
  /** Drop day partitions older than this many days on every refresh; 0 keeps everything. */
  retentionDays?: number;
  /** false for a second, read-only pool (the API's): no partition refresh or retention timer. Default true. */
  maintenance?: boolean;
}

async function guard<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toStorageError(err, what);
  }
}

/**
 * guard() plus one immediate retry when the connection was lost, for idempotent statements only
 * (every write here is: unique keys + ON CONFLICT DO NOTHING, position sets are replaced whole).
 * A server that is really down fails the retry too, and the caller backs off.
 */
async function guardIdempotent<T>(what: string, log: Logger, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!isLostConnection(err)) throw toStorageError(err, what);
    log.warn({ what, code: toStorageError(err, what).code }, 'database connection lost; retrying once on a new connection');
    return guard(what, fn);
  }
}

export function createStorage(driver: SqlDriver, { log, clock, retentionDays = 0, maintenance = true }: StorageOptions): Storage {
  let closed = false;
  const db = drizzleOver(driver); // typed listing queries (queries.ts); inserts and the timeline stay raw SQL

  const insertSnapshots = (params: unknown[]) => driver.execute(SNAPSHOT_INSERT_SQL, params);
  /**
   * Snapshot batches go by binary COPY where the driver can (PostgreSQL): about half the server
   * CPU per row of the unnest insert, and no number printing here (D85, default since D94;
   * SNAPSHOT_COPY=0 turns it off). COPY has no ON CONFLICT:
   * a batch with a row already stored (a replay, a retry after a lost answer) fails whole with
   * 23505 and is written again by the idempotent insert; after that the insert is used for
   * COPY_PAUSE_MS, so a replay of many stored rows does not fail a COPY per batch.
   */
  const copyIn = process.env.SNAPSHOT_COPY !== '0' ? driver.copyIn?.bind(driver) : undefined;
  let copyPausedUntil = 0;
  const writeBatch = async (rows: GreekSnapshot[]): Promise<number> => {
    if (copyIn && clock.now() >= copyPausedUntil) {
      try {
        await copyIn(SNAPSHOT_COPY_SQL, encodeSnapshotsBinary(rows));
        return rows.length;
      } catch (err) {
        if (codeOf(err) !== '23505') throw err;
        copyPausedUntil = clock.now() + COPY_PAUSE_MS;
      }
    }
    return insertSnapshots(snapshotParams(rows));
  };

  const storage: Storage = {
    kind: driver.kind,
    ...(driver.target ? { target: driver.target } : {}),

    async writeSnapshots(rows: GreekSnapshot[]): Promise<WriteResult> {
      if (rows.length === 0) return { inserted: 0, duplicates: 0 };
      validateSnapshots(rows);
      const inserted = await guardIdempotent('writeSnapshots', log, async () => {
        try {
          return await writeBatch(rows);
        } catch (err) {
          // Create-on-demand: a row for a day outside the pre-made range (late replay, clock skew)
          // makes the whole statement fail; make exactly the batch's days, then retry once.
          if (!isMissingPartition(err)) throw err;
          const days = distinctDays(rows.map((r) => r.eventTs));
          const made = await ensureDayPartitions(driver, days);
          log.info({ days, made }, 'created greek_snapshots partitions on demand');
          return await writeBatch(rows);
        }
      });
      return { inserted, duplicates: rows.length - inserted };
    },

    async replacePositions(broker: string, account: string, positions: Position[], at: number): Promise<void> {
      validatePositions(positions, at);
      const params = positionParams(broker, account, positions, at);
      await guardIdempotent('replacePositions', log, () =>
        driver.transaction(async (tx) => {
          const claimed = await tx.query(POSITION_SET_CLAIM_SQL, [broker, account, at]);
          if (claimed.length === 0) return; // a newer set is stored: this one is history
          if ((params[2] as string[]).length > 0) await tx.query(POSITIONS_UPSERT_SQL, params);
          await tx.query(POSITIONS_DELETE_CLOSED_SQL, [broker, account, params[2], at]);
        }),
      );
    },

    async writeTrades(rows: TradeRow[]): Promise<WriteResult> {
      if (rows.length === 0) return { inserted: 0, duplicates: 0 };
      validateTrades(rows);
      const { params } = tradeParams(rows);
      const inserted = await guardIdempotent('writeTrades', log, async () =>
        (await driver.query<{ inserted: number }>(TRADES_INSERT_SQL, params))[0]?.inserted ?? 0,
      );
      return { inserted, duplicates: rows.length - inserted };
    },

    async writeMarketMetrics(source, rows) {
      if (rows.length === 0) return 0;
      const params = marketMetricParams(source, rows);
      return guardIdempotent('writeMarketMetrics', log, async () => (await driver.execute(MARKET_METRICS_UPSERT_SQL, params)));
    },

    async writeQuotes(rows: QuoteRow[]): Promise<WriteResult> {
      if (rows.length === 0) return { inserted: 0, duplicates: 0 };
      validateQuotes(rows);
      const latest = latestPerSymbol(rows);
      await guardIdempotent('writeQuotes', log, () => driver.execute(QUOTES_UPSERT_SQL, quoteParams(latest)));
      return { inserted: latest.length, duplicates: rows.length - latest.length };
    },

    async readQuotes(symbols: string[]): Promise<QuoteRow[]> {
      if (symbols.length === 0) return [];
      const rows = await guardIdempotent('readQuotes', log, () => driver.query<Record<string, unknown>>(QUOTES_SELECT_SQL, [symbols]));
      return rows.map(quoteFromDb);
    },

    async querySnapshots(filter) {
      return guardIdempotent('querySnapshots', log, () => listSnapshots(db, filter));
    },

    async latestSnapshots(filter) {
      const q = buildLatestQuery(filter);
      return guardIdempotent('latestSnapshots', log, async () => [...(await driver.query<SnapshotRecord>(q.text, q.params))]);
    },

    async listPositions(filter) {
      return guardIdempotent('listPositions', log, () => listPositions(db, filter));
    },

    async listTrades(filter) {
      return guardIdempotent('listTrades', log, () => listTrades(db, filter));
    },

    async listAlerts(filter) {
      return guardIdempotent('listAlerts', log, () => listAlerts(db, filter));
    },

    async query<T = Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
      return guard('query', async () => [...(await driver.query<T>(text, params))]);
    },

    async ensurePartitions(aroundMs = clock.now()): Promise<void> {
      const made = await guard('ensurePartitions', () => ensureDayPartitions(driver, daysAround(aroundMs)));
      if (made > 0) log.info({ made, around: new Date(aroundMs).toISOString() }, 'created greek_snapshots partitions');
    },

    async dropSnapshotsBefore(beforeMs: number): Promise<string[]> {
      const dropped = await guard('dropSnapshotsBefore', () => dropPartitionsOlderThan(driver, beforeMs));
      // The rollup rows of those days go too (greek_rollup is one table, not partitioned).
      if (dropped.length > 0) await guard('dropSnapshotsBefore', () => dropRollupBefore(driver, Math.floor(beforeMs / 86_400_000) * 86_400_000));
      if (dropped.length > 0) log.info({ dropped, before: new Date(beforeMs).toISOString() }, 'retention: dropped old greek_snapshots partitions');
      return dropped;
    },

    async rollup() {
      return guard('rollup', () => rollupIncremental(driver));
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (refresh !== undefined) clock.clearInterval(refresh);
      if (rollupTimer !== undefined) clock.clearInterval(rollupTimer);
      await driver.close();
    },
  };

  const refresh = !maintenance ? undefined : clock.setInterval(() => {
    storage.ensurePartitions().catch((err) => log.warn({ err: toStorageError(err, 'ensurePartitions').message }, 'partition refresh failed; rows will still land via create-on-demand'));
    if (retentionDays > 0) {
      storage.dropSnapshotsBefore(clock.now() - retentionDays * 86_400_000).catch((err) => log.warn({ err: toStorageError(err, 'retention').message }, 'retention: could not drop old partitions; will retry'));
    }
  }, PARTITION_REFRESH_MS);
  // The history rollup (src/db/rollup.ts): incremental, idempotent, one process at a time.
  // A run still going when the next is due is not doubled (a first run over a long history takes minutes).
  let rolling = false;
  const rollupTimer = !maintenance ? undefined : clock.setInterval(() => {
    if (rolling || closed) return;
    rolling = true;
    storage.rollup!()
      .catch((err) => log.warn({ err: toStorageError(err, 'rollup').message }, 'history rollup failed; the timeline reads the raw rows meanwhile, will retry'))
      .finally(() => (rolling = false));
  }, ROLLUP_INTERVAL_MS);
  // Like the connection pool, this timer keeps the process alive until close(): callers must close().

  return storage;
}

import type { RollupRun } from './rollup.js';
import type { MarketMetric, GreekSnapshot, Position, QuoteRow, TradeRow } from '../core/types.js';
import type { PostgresTarget } from './driver.js';
import type { Alert } from '../risk/alertBook.js';

/** What a batch write did. inserted + duplicates === rows given. */
export interface WriteResult {
  inserted: number;
  duplicates: number;
  /** Epoch ms the database confirmed the write, when the writer ran elsewhere (the writer thread). */
  at?: number;
}

/** A stored snapshot as readers see it (API, CLI). Times are epoch ms. */
export interface SnapshotRecord extends GreekSnapshot {
  persistedAt: number;
}

export interface SnapshotFilter {
  broker?: string;
  account?: string;
  contractKey?: string;
  underlying?: string;
  /** Inclusive lower bound on event_ts (epoch ms). */
  from?: number;
  /** Exclusive upper bound on event_ts (epoch ms). */
  to?: number;
  /** Newest first; default 100, max 10000. */
  limit?: number;
}

export interface PositionRecord extends Position {
  updatedAt: number;
}

export interface AlertFilter {
  open?: boolean;
  since?: number;
  /** 1..10000, default 1000. */
  limit?: number;
}

export interface TradeFilter {
  broker?: string;
  account?: string;
  contractKey?: string;
  from?: number;
  to?: number;
  limit?: number;
}

/**
 * One interface over both backends (PostgreSQL via postgres.js, embedded PGlite).
 * Every write is one statement per batch and idempotent (ON CONFLICT DO NOTHING).
 * Failures are thrown as StorageError with `retryable` set (see errors.ts).
 */
export interface Storage {
  readonly kind: 'postgres' | 'pglite';
  /** PostgreSQL only: the connection target, for a writer thread with its own pool (src/db/writerThread.ts). */
  readonly target?: PostgresTarget;
  /** Inserts snapshots; NaN/Infinity become null; persisted_at is set by the database. */
  writeSnapshots(rows: GreekSnapshot[]): Promise<WriteResult>;
  /** Replaces the open positions of (broker, account) with `positions` (closed ones removed). */
  replacePositions(broker: string, account: string, positions: Position[], at: number): Promise<void>;
  writeTrades(rows: TradeRow[]): Promise<WriteResult>;
  /** Upserts the latest market metrics per symbol (market_metrics, migration 0006). */
  writeMarketMetrics?(source: string, rows: MarketMetric[]): Promise<number>;
  /** (Optional only for test doubles.) Upserts the latest quote per symbol (a row never replaces one received later); inserted = rows sent. */
  writeQuotes?(rows: QuoteRow[]): Promise<WriteResult>;
  /** The stored quotes of these symbols (absent symbols are absent). */
  readQuotes?(symbols: string[]): Promise<QuoteRow[]>;
  querySnapshots(filter: SnapshotFilter): Promise<SnapshotRecord[]>;
  /** Newest snapshot per (broker, account, contract_key) by event_ts, then seq. */
  latestSnapshots(filter: Omit<SnapshotFilter, 'limit' | 'from'>): Promise<SnapshotRecord[]>;
  listPositions(filter: { broker?: string; account?: string; underlying?: string }): Promise<PositionRecord[]>;
  listTrades(filter: TradeFilter): Promise<TradeRow[]>;
  /** Alerts newest first (drizzle, queries.ts). `since`: opened or closed at or after it; `open`: only still-open ones. */
  listAlerts(filter: AlertFilter): Promise<Alert[]>;
  /** Raw parameterised query ($1, $2, ...) for reporting queries (timeline). Rows as plain objects. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Makes sure daily partitions exist for [fromDay-1, toDay+7]. Called at start and daily. */
  ensurePartitions(aroundMs?: number): Promise<void>;
  /** Retention: drops the whole-day partitions before the day of `beforeMs`; returns their names. */
  dropSnapshotsBefore(beforeMs: number): Promise<string[]>;
  /** One incremental run of the history rollup (src/db/rollup.ts); also on the maintenance timer every minute. */
  rollup?(): Promise<RollupRun>;
  close(): Promise<void>;
}

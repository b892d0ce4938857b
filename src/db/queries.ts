/**
 * The typed listing queries off the hot path (API and CLI reads): snapshots, trades, positions, alerts,
 * built with drizzle-orm over src/db/schema.ts. The hot paths stay raw SQL where it is faster:
 * the unnest batch inserts (snapshots.ts, trades.ts, positions.ts) and the timeline (timeline.ts).
 */
import { and, asc, desc, eq, gte, isNull, lt, or, type SQL } from 'drizzle-orm';
import type { TradeRow } from '../core/types.js';
import type { Db } from './drizzle.js';
import type { Alert } from '../risk/alertBook.js';
import { alerts, greekSnapshots, positions, trades } from './schema.js';
import { clampLimit } from './snapshots.js';
import type { AlertFilter, PositionRecord, SnapshotFilter, SnapshotRecord, TradeFilter } from './types.js';

type Filters = Array<SQL | undefined>;
const when = <T>(value: T | undefined, cond: (v: T) => SQL): SQL | undefined => (value === undefined ? undefined : cond(value));
const ms = (d: Date) => d.getTime();

/** Newest first (event_ts, then seq); ties broken by key so pages are stable. `from` inclusive, `to` exclusive. */
export function snapshotsQuery(db: Db, f: SnapshotFilter) {
  const t = greekSnapshots;
  const where: Filters = [
    when(f.broker, (v) => eq(t.broker, v)), when(f.account, (v) => eq(t.account, v)),
    when(f.contractKey, (v) => eq(t.contractKey, v)), when(f.underlying, (v) => eq(t.underlying, v)),
    when(f.from, (v) => gte(t.eventTs, new Date(v))), when(f.to, (v) => lt(t.eventTs, new Date(v))),
  ];
  return db.select().from(t).where(and(...where))
    .orderBy(desc(t.eventTs), desc(t.seq), asc(t.broker), asc(t.account), asc(t.contractKey))
    .limit(clampLimit(f.limit));
}

export async function listSnapshots(db: Db, f: SnapshotFilter): Promise<SnapshotRecord[]> {
  return (await snapshotsQuery(db, f)).map((r) => ({
    ...r, eventTs: ms(r.eventTs), receivedAt: ms(r.receivedAt), persistedAt: ms(r.persistedAt),
  }));
}

export function tradesQuery(db: Db, f: TradeFilter) {
  const t = trades;
  const where: Filters = [
    when(f.broker, (v) => eq(t.broker, v)), when(f.account, (v) => eq(t.account, v)), when(f.contractKey, (v) => eq(t.contractKey, v)),
    when(f.from, (v) => gte(t.executedAt, new Date(v))), when(f.to, (v) => lt(t.executedAt, new Date(v))),
  ];
  return db.select({
    broker: t.broker, account: t.account, tradeId: t.tradeId, contractKey: t.contractKey, side: t.side,
    quantity: t.quantity, price: t.price, executedAt: t.executedAt, source: t.source, fees: t.fees,
  }).from(t).where(and(...where)).orderBy(desc(t.executedAt), asc(t.broker), asc(t.tradeId)).limit(clampLimit(f.limit));
}

export async function listTrades(db: Db, f: TradeFilter): Promise<TradeRow[]> {
  return (await tradesQuery(db, f)).map((r) => ({ ...r, executedAt: ms(r.executedAt) }));
}

export function positionsQuery(db: Db, f: { broker?: string; account?: string; underlying?: string }) {
  const t = positions;
  const where: Filters = [when(f.broker, (v) => eq(t.broker, v)), when(f.account, (v) => eq(t.account, v)), when(f.underlying, (v) => eq(t.underlying, v))];
  return db.select().from(t).where(and(...where)).orderBy(asc(t.broker), asc(t.account), asc(t.underlying), asc(t.contractKey));
}

export async function listPositions(db: Db, f: { broker?: string; account?: string; underlying?: string }): Promise<PositionRecord[]> {
  return (await positionsQuery(db, f)).map((r) => ({ ...r, assetClass: r.assetClass as PositionRecord['assetClass'], updatedAt: ms(r.updatedAt) }));
}

/** Newest first (opened_at, then id). `since`: opened or closed at or after it; `open`: only still-open ones. */
export function alertsQuery(db: Db, f: AlertFilter) {
  const t = alerts;
  const since = f.since === undefined ? undefined : new Date(f.since);
  const where: Filters = [f.open ? isNull(t.closedAt) : undefined, since && or(gte(t.openedAt, since), gte(t.closedAt, since))];
  return db.select().from(t).where(and(...where)).orderBy(desc(t.openedAt), desc(t.id)).limit(Math.min(10_000, Math.max(1, f.limit ?? 1000)));
}

export async function listAlerts(db: Db, f: AlertFilter): Promise<Alert[]> {
  return (await alertsQuery(db, f)).map((r) => ({ ...r, openedAt: ms(r.openedAt), closedAt: r.closedAt === null ? null : ms(r.closedAt) }));
}

/**
 * drizzle-orm description of the tables, for typed queries elsewhere (API, reports):
 *   drizzle(client, { schema }) with drizzle-orm/postgres-js or drizzle-orm/pglite.
 * The tables themselves are made by the SQL migrations in ./migrations (partitioning, the
 * partition function and indexes are raw SQL that drizzle cannot express); the test
 * integration/storage/schema.test.ts fails when this file and the migrations drift apart
 * (tables, columns, types, NOT NULL, defaults, primary keys, unique constraints). Used by the
 * typed listing queries in queries.ts.
 */
import { sql } from 'drizzle-orm';
import { bigint, date, doublePrecision, integer, numeric, pgTable, primaryKey, text, timestamp, unique } from 'drizzle-orm/pg-core';

const tstz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** Partitioned by RANGE (event_ts), one partition per UTC day: see 0001_init.sql. */
export const greekSnapshots = pgTable(
  'greek_snapshots',
  {
    broker: text('broker').notNull(),
    account: text('account').notNull(),
    contractKey: text('contract_key').notNull(),
    underlying: text('underlying').notNull(),
    eventTs: tstz('event_ts').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull().default(0),
    receivedAt: tstz('received_at').notNull(),
    persistedAt: tstz('persisted_at').notNull().default(sql`clock_timestamp()`),
    quantity: numeric('quantity', { mode: 'number' }).notNull(),
    multiplier: numeric('multiplier', { mode: 'number' }).notNull(),
    bid: doublePrecision('bid'),
    ask: doublePrecision('ask'),
    mark: doublePrecision('mark'),
    underlyingPrice: doublePrecision('underlying_price'),
    iv: doublePrecision('iv'),
    delta: doublePrecision('delta'),
    gamma: doublePrecision('gamma'),
    theta: doublePrecision('theta'),
    vega: doublePrecision('vega'),
    rho: doublePrecision('rho'),
  },
  (t) => [primaryKey({ name: 'greek_snapshots_pkey', columns: [t.broker, t.account, t.contractKey, t.eventTs, t.seq] })],
);

export const positions = pgTable(
  'positions',
  {
    broker: text('broker').notNull(),
    account: text('account').notNull(),
    contractKey: text('contract_key').notNull(),
    underlying: text('underlying').notNull(),
    quantity: numeric('quantity', { mode: 'number' }).notNull(),
    multiplier: numeric('multiplier', { mode: 'number' }).notNull(),
    avgPrice: doublePrecision('avg_price'),
    assetClass: text('asset_class').notNull().default('option'),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [primaryKey({ name: 'positions_pkey', columns: [t.broker, t.account, t.contractKey] })],
);

export const positionSets = pgTable(
  'position_sets',
  {
    broker: text('broker').notNull(),
    account: text('account').notNull(),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [primaryKey({ name: 'position_sets_pkey', columns: [t.broker, t.account] })],
);

export const trades = pgTable(
  'trades',
  {
    broker: text('broker').notNull(),
    account: text('account').notNull(),
    tradeId: text('trade_id').notNull(),
    contractKey: text('contract_key').notNull(),
    side: text('side', { enum: ['buy', 'sell'] }).notNull(),
    quantity: numeric('quantity', { mode: 'number' }).notNull(),
    price: doublePrecision('price').notNull(),
    executedAt: tstz('executed_at').notNull(),
    source: text('source').notNull(),
    recordedAt: tstz('recorded_at').notNull().default(sql`clock_timestamp()`),
    /** Migration 0007: fees of the fill, positive = paid; null = not known. */
    fees: doublePrecision('fees'),
  },
  (t) => [unique('trades_broker_trade_id_key').on(t.broker, t.tradeId)],
);

/** Risk alerts (migration 0003): at most one open per (rule, subject), a partial unique index. */
export const alerts = pgTable('alerts', {
  // bigserial in the migration: a bigint whose default is its sequence.
  id: bigint('id', { mode: 'number' }).primaryKey().default(sql`nextval('alerts_id_seq'::regclass)`),
  rule: text('rule').notNull(),
  subject: text('subject').notNull(),
  openedAt: tstz('opened_at').notNull(),
  closedAt: tstz('closed_at'),
  value: doublePrecision('value').notNull(),
  threshold: doublePrecision('threshold').notNull(),
  message: text('message').notNull(),
  closeValue: doublePrecision('close_value'),
  closeMessage: text('close_message'),
});

/** One closing mark per contract per New York session day (migration 0003). */
export const closingMarks = pgTable(
  'closing_marks',
  {
    contractKey: text('contract_key').notNull(),
    day: date('day', { mode: 'string' }).notNull(),
    mark: doublePrecision('mark').notNull(),
    markedAt: tstz('marked_at').notNull(),
    source: text('source').notNull(),
    recordedAt: tstz('recorded_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [primaryKey({ name: 'closing_marks_pkey', columns: [t.contractKey, t.day] })],
);

/** Latest volatility metrics and beta per underlying, all volatility numbers fractions (migration 0006). */
export const marketMetrics = pgTable(
  'market_metrics',
  {
    symbol: text('symbol').notNull(),
    ivIndex: doublePrecision('iv_index'),
    ivRank: doublePrecision('iv_rank'),
    ivPercentile: doublePrecision('iv_percentile'),
    iv30: doublePrecision('iv30'),
    hv30: doublePrecision('hv30'),
    hv60: doublePrecision('hv60'),
    hv90: doublePrecision('hv90'),
    beta: doublePrecision('beta'),
    earningsDate: date('earnings_date', { mode: 'string' }),
    source: text('source').notNull(),
    updatedAt: tstz('updated_at').notNull(),
    fetchedAt: tstz('fetched_at').notNull().default(sql`clock_timestamp()`),
  },
  (t) => [primaryKey({ name: 'market_metrics_pkey', columns: [t.symbol] })],
);
/** Latest quote per symbol (migration 0005): stream or REST, with the Greeks of option symbols. */
export const quotes = pgTable('quotes', {
  symbol: text('symbol').primaryKey(),
  bid: doublePrecision('bid'),
  ask: doublePrecision('ask'),
  mid: doublePrecision('mid'),
  mark: doublePrecision('mark'),
  last: doublePrecision('last'),
  source: text('source', { enum: ['stream', 'rest'] }).notNull(),
  broker: text('broker').notNull(),
  eventTs: tstz('event_ts').notNull(),
  receivedAt: tstz('received_at').notNull(),
  iv: doublePrecision('iv'),
  delta: doublePrecision('delta'),
  gamma: doublePrecision('gamma'),
  theta: doublePrecision('theta'),
  vega: doublePrecision('vega'),
  persistedAt: tstz('persisted_at').notNull().default(sql`clock_timestamp()`),
});

/** Newest snapshot per position per minute / hour (migration 0004, src/db/rollup.ts). */
export const greekRollup = pgTable(
  'greek_rollup',
  {
    grainS: integer('grain_s').notNull(),
    broker: text('broker').notNull(),
    account: text('account').notNull(),
    contractKey: text('contract_key').notNull(),
    bucketEnd: tstz('bucket_end').notNull(),
    underlying: text('underlying').notNull(),
    eventTs: tstz('event_ts').notNull(),
    seq: bigint('seq', { mode: 'number' }).notNull(),
    size: doublePrecision('size').notNull(),
    delta: doublePrecision('delta'),
    gamma: doublePrecision('gamma'),
    theta: doublePrecision('theta'),
    vega: doublePrecision('vega'),
    underlyingPrice: doublePrecision('underlying_price'),
    mark: doublePrecision('mark'),
    /** bucket_end of the position's next row at this grain, NULL: none yet (migration 0008, D81) */
    nextEnd: tstz('next_end'),
  },
  (t) => [primaryKey({ name: 'greek_rollup_pkey', columns: [t.grainS, t.broker, t.account, t.contractKey, t.bucketEnd] })],
);

/** The rollup job's watermark (one row, migration 0004). */
export const greekRollupState = pgTable('greek_rollup_state', {
  id: integer('id').primaryKey().default(1),
  watermark: tstz('watermark').notNull(),
  updatedAt: tstz('updated_at').notNull(),
});

/** ingest --cluster leases, one per stream unit (migration 0004, src/app/cluster.ts). */
export const ingestLeases = pgTable('ingest_leases', {
  unit: text('unit').primaryKey(),
  owner: text('owner').notNull(),
  generation: bigint('generation', { mode: 'number' }).notNull().default(1),
  acquiredAt: tstz('acquired_at').notNull(),
  heartbeatAt: tstz('heartbeat_at').notNull(),
  expiresAt: tstz('expires_at').notNull(),
  previousOwner: text('previous_owner'),
  gapMs: doublePrecision('gap_ms'),
});

/** ingest --cluster members (migration 0004). */
export const ingestMembers = pgTable('ingest_members', {
  member: text('member').primaryKey(),
  host: text('host').notNull(),
  pid: integer('pid').notNull(),
  startedAt: tstz('started_at').notNull(),
  heartbeatAt: tstz('heartbeat_at').notNull(),
  expiresAt: tstz('expires_at').notNull(),
});

export const riskwireMigrations = pgTable('riskwire_migrations', {
  id: text('id').primaryKey(),
  checksum: text('checksum').notNull(),
  appliedAt: tstz('applied_at').notNull().defaultNow(),
});

export const schema = { greekSnapshots, positions, positionSets, trades, alerts, closingMarks, marketMetrics, quotes, greekRollup, greekRollupState, ingestLeases, ingestMembers, riskwireMigrations };

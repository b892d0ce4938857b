/**
 * drizzle-orm description of the tables, for typed queries elsewhere (API, reports):
 *   drizzle(client, { schema }) with drizzle-orm/postgres-js or drizzle-orm/pglite.
 * The tables themselves are made by the SQL migrations in ./migrations (partitioning, the
 * partition function and indexes are raw SQL that drizzle cannot express); the test
 * integration/storage/queries.test.ts ("the drizzle schema … matches the tables the migrations
 * made") fails when this file and the migrations drift apart.
 */
import { bigint, doublePrecision, numeric, pgTable, primaryKey, text, timestamp, unique } from 'drizzle-orm/pg-core';

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
    persistedAt: tstz('persisted_at').notNull(),
    quantity: numeric('quantity').notNull(),
    multiplier: numeric('multiplier').notNull(),
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
    quantity: numeric('quantity').notNull(),
    multiplier: numeric('multiplier').notNull(),
    avgPrice: doublePrecision('avg_price'),
    assetClass: text('asset_class').notNull().default('option'),
    updatedAt: tstz('updated_at').notNull(),
  },
  (t) => [primaryKey({ name: 'positions_pkey', columns: [t.broker, t.account, t.contractKey] })],
);

export const trades = pgTable(
  'trades',
  {
    broker: text('broker').notNull(),
    account: text('account').notNull(),
    tradeId: text('trade_id').notNull(),
    contractKey: text('contract_key').notNull(),
    side: text('side', { enum: ['buy', 'sell'] }).notNull(),
    quantity: numeric('quantity').notNull(),
    price: doublePrecision('price').notNull(),
    executedAt: tstz('executed_at').notNull(),
    source: text('source').notNull(),
    recordedAt: tstz('recorded_at').notNull(),
  },
  (t) => [unique('trades_broker_trade_id_key').on(t.broker, t.tradeId)],
);

export const riskwireMigrations = pgTable('riskwire_migrations', {
  id: text('id').primaryKey(),
  checksum: text('checksum').notNull(),
  appliedAt: tstz('applied_at').notNull(),
});

export const schema = { greekSnapshots, positions, trades, riskwireMigrations };

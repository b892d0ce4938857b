-- Riskwire schema v1. Valid on PostgreSQL 15 and PGlite 0.5 (PostgreSQL 18).
-- Applied once by src/db/migrate.ts inside a transaction holding an advisory lock.

-- One row per Greeks update per held position. Range-partitioned by UTC day on event_ts;
-- the key has to include event_ts because PostgreSQL only enforces uniqueness per partition.
-- account is in every key so the table can later be distributed by account (Citus).
CREATE TABLE IF NOT EXISTS greek_snapshots (
  broker           text             NOT NULL,
  account          text             NOT NULL,
  contract_key     text             NOT NULL,
  underlying       text             NOT NULL,
  event_ts         timestamptz      NOT NULL,
  seq              bigint           NOT NULL DEFAULT 0,
  received_at      timestamptz      NOT NULL,
  -- clock_timestamp(), not now(): now() is the transaction start, which hides time spent waiting on locks.
  persisted_at     timestamptz      NOT NULL DEFAULT clock_timestamp(),
  quantity         numeric          NOT NULL,
  multiplier       numeric          NOT NULL,
  bid              double precision,
  ask              double precision,
  mark             double precision,
  underlying_price double precision,
  iv               double precision,
  delta            double precision,
  gamma            double precision,
  theta            double precision,
  vega             double precision,
  rho              double precision,
  CONSTRAINT greek_snapshots_pkey PRIMARY KEY (broker, account, contract_key, event_ts, seq)
) PARTITION BY RANGE (event_ts);

-- Timeline and API filters by underlying over a time range; the primary key already serves
-- (broker, account, contract_key) lookups.
CREATE INDEX IF NOT EXISTS greek_snapshots_underlying_ts ON greek_snapshots (underlying, event_ts);

-- Creates the daily partitions greek_snapshots_pYYYYMMDD for the given UTC days, skipping the
-- ones that exist. Serialised by an advisory lock (taken only when something is missing) so
-- concurrent writers and starters never race on the same CREATE TABLE. Returns how many it made.
CREATE OR REPLACE FUNCTION riskwire_ensure_day_partitions(days date[]) RETURNS integer
LANGUAGE plpgsql AS $fn$
DECLARE
  d       date;
  part    text;
  made    integer := 0;
  locked  boolean := false;
BEGIN
  FOREACH d IN ARRAY days LOOP
    part := 'greek_snapshots_p' || to_char(d, 'YYYYMMDD');
    CONTINUE WHEN to_regclass(part) IS NOT NULL;
    IF NOT locked THEN
      PERFORM pg_advisory_xact_lock(7263510002);
      locked := true;
    END IF;
    BEGIN
      EXECUTE format(
        'CREATE TABLE IF NOT EXISTS %I PARTITION OF greek_snapshots FOR VALUES FROM (%L) TO (%L)',
        part, d::timestamp AT TIME ZONE 'UTC', (d + 1)::timestamp AT TIME ZONE 'UTC');
      made := made + 1;
    EXCEPTION WHEN duplicate_table OR unique_violation THEN
      -- Another session made it between our check and our CREATE: that is the outcome we wanted.
      NULL;
    END;
  END LOOP;
  RETURN made;
END
$fn$;

-- The latest known open positions per broker and account (replaced as a set).
CREATE TABLE IF NOT EXISTS positions (
  broker       text             NOT NULL,
  account      text             NOT NULL,
  contract_key text             NOT NULL,
  underlying   text             NOT NULL,
  quantity     numeric          NOT NULL,
  multiplier   numeric          NOT NULL,
  avg_price    double precision,
  asset_class  text             NOT NULL DEFAULT 'option',
  updated_at   timestamptz      NOT NULL,
  CONSTRAINT positions_pkey PRIMARY KEY (broker, account, contract_key)
);

-- Executions and paper fills; a broker's trade id is unique within that broker.
CREATE TABLE IF NOT EXISTS trades (
  broker       text             NOT NULL,
  account      text             NOT NULL,
  trade_id     text             NOT NULL,
  contract_key text             NOT NULL,
  side         text             NOT NULL CHECK (side IN ('buy', 'sell')),
  quantity     numeric          NOT NULL,
  price        double precision NOT NULL,
  executed_at  timestamptz      NOT NULL,
  source       text             NOT NULL,
  recorded_at  timestamptz      NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT trades_broker_trade_id_key UNIQUE (broker, trade_id)
);

CREATE INDEX IF NOT EXISTS trades_account_executed_at ON trades (account, executed_at);

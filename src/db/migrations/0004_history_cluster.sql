-- Riskwire schema 0004: a month of history (rollups) and ingest --cluster (leases).
-- See specs/history.md and specs/cluster.md.

-- The rows persisted after an instant: the rollup job's input, and the rows the timeline reads
-- raw because the rollup has not seen them yet. A B-tree, not BRIN: the planner prices a BRIN
-- scan as reading every row and seq-scans each day partition instead (measured on 10 M rows:
-- 0.2 ms via the index, 300 ms per day without). Appends at the right edge: cheap to maintain.
CREATE INDEX IF NOT EXISTS greek_snapshots_persisted_at ON greek_snapshots (persisted_at);

-- Newest snapshot of each position per time bucket (grain_s = 60: minute, 3600: hour), keyed by
-- the bucket's END: bucket_end = ceil(event_ts / grain), i.e. a snapshot at exactly 10:01:00
-- belongs to the bucket ending 10:01:00, as in the timeline (a bucket is sampled at its end,
-- snapshots at or before that instant count). For a timeline whose bucket is a multiple of the
-- grain this row stands for all the position's snapshots of its bucket: same numbers, 12× to
-- 700× fewer rows. Maintained by riskwire_rollup() (the writer's maintenance timer, every
-- minute, and npm run db -- rollup); the timeline reads rows the job has not seen from
-- greek_snapshots itself, so a stale rollup is slower, never wrong.
CREATE TABLE IF NOT EXISTS greek_rollup (
  grain_s          integer          NOT NULL,
  broker           text             NOT NULL,
  account          text             NOT NULL,
  contract_key     text             NOT NULL,
  bucket_end       timestamptz      NOT NULL,
  underlying       text             NOT NULL,
  event_ts         timestamptz      NOT NULL,
  seq              bigint           NOT NULL,
  size             double precision NOT NULL,
  delta            double precision,
  gamma            double precision,
  theta            double precision,
  vega             double precision,
  underlying_price double precision,
  mark             double precision,
  CONSTRAINT greek_rollup_pkey PRIMARY KEY (grain_s, broker, account, contract_key, bucket_end)
);

CREATE INDEX IF NOT EXISTS greek_rollup_grain_end ON greek_rollup (grain_s, bucket_end);

-- One row: every greek_snapshots row with persisted_at <= watermark - margin is in greek_rollup
-- (margin: src/db/rollup.ts ROLLUP_MARGIN_MS, covers transactions still open at the job's start).
CREATE TABLE IF NOT EXISTS greek_rollup_state (
  id         integer     NOT NULL DEFAULT 1 CHECK (id = 1),
  watermark  timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT greek_rollup_state_pkey PRIMARY KEY (id)
);

INSERT INTO greek_rollup_state (id, watermark, updated_at) VALUES (1, '-infinity', clock_timestamp()) ON CONFLICT DO NOTHING;

-- ingest --cluster: one row per stream unit (broker:account, or broker:* for a broker whose
-- plugin streams all its accounts in one actor). The owner streams the unit while
-- expires_at is in the future and renews it every heartbeat; anyone may take an expired lease
-- (generation + 1). Times come from the members' clocks (injectable; hosts run NTP).
CREATE TABLE IF NOT EXISTS ingest_leases (
  unit           text        NOT NULL,
  owner          text        NOT NULL,
  generation     bigint      NOT NULL DEFAULT 1,
  acquired_at    timestamptz NOT NULL,
  heartbeat_at   timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  previous_owner text,
  -- takeover: this acquisition − the previous owner's last heartbeat (bounds the streaming gap);
  -- NULL for a first lease, -1 once released cleanly
  gap_ms         double precision,
  CONSTRAINT ingest_leases_pkey PRIMARY KEY (unit)
);

-- Members of the cluster (one row per ingest --cluster process), for status.
CREATE TABLE IF NOT EXISTS ingest_members (
  member       text        NOT NULL,
  host         text        NOT NULL,
  pid          integer     NOT NULL,
  started_at   timestamptz NOT NULL,
  heartbeat_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL,
  CONSTRAINT ingest_members_pkey PRIMARY KEY (member)
);

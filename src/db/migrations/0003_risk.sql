-- Risk engine (issue 14): alerts and the closing mark day P&L is measured against.

-- One row per alert: opened when a rule breaches, closed when it clears past the hysteresis band
-- (or its subject is gone). At most one open alert per (rule, subject), enforced here too.
CREATE TABLE IF NOT EXISTS alerts (
  id            bigserial        PRIMARY KEY,
  rule          text             NOT NULL,
  subject       text             NOT NULL,
  opened_at     timestamptz      NOT NULL,
  closed_at     timestamptz,
  value         double precision NOT NULL,
  threshold     double precision NOT NULL,
  message       text             NOT NULL,
  close_value   double precision,
  close_message text
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_one_open ON alerts (rule, subject) WHERE closed_at IS NULL;
CREATE INDEX IF NOT EXISTS alerts_opened_at ON alerts (opened_at);

-- One closing mark per contract per New York session day (16:00). contract_key is the option's
-- key, or the symbol for a stock/underlying (its price). Written once, never updated.
CREATE TABLE IF NOT EXISTS closing_marks (
  contract_key text             NOT NULL,
  day          date             NOT NULL,
  mark         double precision NOT NULL,
  marked_at    timestamptz      NOT NULL,
  source       text             NOT NULL,
  recorded_at  timestamptz      NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT closing_marks_pkey PRIMARY KEY (contract_key, day)
);

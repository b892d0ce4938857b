-- Quotes (issue 17): the latest quote per symbol, from the stream or a REST fallback.
-- symbol is the canonical key: the ticker for equities and indices (SPY, SPX), the Tastytrade
-- form for futures (/ESH7), the 21-character OCC key for equity/index options. One row per
-- symbol, replaced only by a quote received later (received_at): a late write never hides a
-- newer quote. Options carry their latest Greeks too (watched, unheld options have no
-- greek_snapshots rows).
CREATE TABLE IF NOT EXISTS quotes (
  symbol      text             PRIMARY KEY,
  bid         double precision,
  ask         double precision,
  mid         double precision,
  mark        double precision,
  last        double precision,
  source      text             NOT NULL,
  broker      text             NOT NULL,
  event_ts    timestamptz      NOT NULL,
  received_at timestamptz      NOT NULL,
  iv          double precision,
  delta       double precision,
  gamma       double precision,
  theta       double precision,
  vega        double precision,
  persisted_at timestamptz     NOT NULL DEFAULT clock_timestamp()
);

-- Market metrics (issue 17 item 3): the latest volatility metrics and beta per underlying, from
-- Tastytrade /market-metrics every MARKET_METRICS_POLL_MS. Every volatility number is a
-- fraction (0.224 = 22.4 %): the endpoint's percent-point fields (IV30, HV30/60/90) are divided
-- by 100 before they get here. One row per symbol (futures by product: /ES); a poll replaces it
-- unless the stored row is newer.
CREATE TABLE IF NOT EXISTS market_metrics (
  symbol        text             NOT NULL,
  iv_index      double precision,
  iv_rank       double precision,
  iv_percentile double precision,
  iv30          double precision,
  hv30          double precision,
  hv60          double precision,
  hv90          double precision,
  beta          double precision,
  earnings_date date,
  source        text             NOT NULL,
  updated_at    timestamptz      NOT NULL,
  fetched_at    timestamptz      NOT NULL DEFAULT clock_timestamp(),
  CONSTRAINT market_metrics_pkey PRIMARY KEY (symbol)
);

-- Riskwire schema 0008: the history rollup chains each position's rows (specs/history.md, D81).
-- next_end = the bucket_end of the same position's next row at the same grain (NULL: none yet).
-- With it the timeline reads how long each rollup row stays the position's latest without
-- sorting the day by position (the sort + window that made a 1-minute day take seconds).
-- Maintained by the rollup job (src/db/rollup.ts relinkSql) for every position it touches.
ALTER TABLE greek_rollup ADD COLUMN IF NOT EXISTS next_end timestamptz;

-- The job updates the previous row of each position once (its next_end): room for HOT updates.
ALTER TABLE greek_rollup SET (fillfactor = 80);

-- Existing rows: link them now (one pass; rows written from here on are linked by the job).
-- A month of a 500-contract book (2.7 M rollup rows) takes minutes on a busy 2-core machine:
-- no statement timeout for the rest of this migration's transaction.
SET LOCAL statement_timeout = 0;
UPDATE greek_rollup r SET next_end = x.nx
  FROM (SELECT grain_s, broker, account, contract_key, bucket_end,
               lead(bucket_end) OVER (PARTITION BY grain_s, broker, account, contract_key ORDER BY bucket_end) AS nx
          FROM greek_rollup) x
 WHERE r.grain_s = x.grain_s AND r.broker = x.broker AND r.account = x.account AND r.contract_key = x.contract_key
   AND r.bucket_end = x.bucket_end AND x.nx IS NOT NULL AND r.next_end IS DISTINCT FROM x.nx;

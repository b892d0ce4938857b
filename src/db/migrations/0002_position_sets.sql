-- When each account's position set was last replaced. A replay of an older set (from the
-- journal, or a batch that lost a race with a newer one) must change nothing, even when the
-- newer set closed every position so that no positions row is left to compare against.
CREATE TABLE IF NOT EXISTS position_sets (
  broker     text        NOT NULL,
  account    text        NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT position_sets_pkey PRIMARY KEY (broker, account)
);

-- Accounts that already have positions start from their newest row.
INSERT INTO position_sets (broker, account, updated_at)
SELECT broker, account, max(updated_at) FROM positions GROUP BY broker, account
ON CONFLICT (broker, account) DO NOTHING;

/** Deleting one broker's rows (npm run db -- purge): snapshots, positions and trades, in one statement. */
import type { Storage } from './types.js';

export interface BrokerRows {
  snapshots: number;
  positions: number;
  trades: number;
}

const TABLES = { snapshots: 'greek_snapshots', positions: 'positions', trades: 'trades' } as const;

export async function countBrokerRows(storage: Storage, broker: string): Promise<BrokerRows> {
  const out = { snapshots: 0, positions: 0, trades: 0 };
  for (const [k, table] of Object.entries(TABLES) as [keyof BrokerRows, string][]) {
    const [row] = await storage.query<{ n: number }>(`SELECT count(*) AS n FROM ${table} WHERE broker = $1`, [broker]);
    out[k] = Number(row.n);
  }
  return out;
}

/** One statement (data-modifying CTEs), so the deletes (and the broker's history rollup rows) commit together or not at all. */
export async function purgeBroker(storage: Storage, broker: string): Promise<BrokerRows> {
  const [row] = await storage.query<BrokerRows>(
    `WITH s AS (DELETE FROM greek_snapshots WHERE broker = $1 RETURNING 1),
          p AS (DELETE FROM positions WHERE broker = $1 RETURNING 1),
          t AS (DELETE FROM trades WHERE broker = $1 RETURNING 1),
          r AS (DELETE FROM greek_rollup WHERE broker = $1 RETURNING 1)
     SELECT (SELECT count(*) FROM s) AS snapshots, (SELECT count(*) FROM p) AS positions, (SELECT count(*) FROM t) AS trades`,
    [broker],
  );
  return { snapshots: Number(row.snapshots), positions: Number(row.positions), trades: Number(row.trades) };
}

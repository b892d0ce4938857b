import type { TestStorage } from '../helpers/pg.js';

/** Every column but persisted_at (when the writer got to it), each row as one comparable line. */
const SNAPSHOT_COLUMNS = 'broker, account, contract_key, underlying, event_ts, seq, received_at, quantity, multiplier, bid, ask, mark, underlying_price, iv, delta, gamma, theta, vega, rho';

export async function databaseRows(t: TestStorage): Promise<{ snapshots: string[]; positions: string[]; trades: string[] }> {
  const snapshots = await t.storage.query(`SELECT ${SNAPSHOT_COLUMNS} FROM greek_snapshots ORDER BY broker, account, contract_key, event_ts, seq`);
  const positions = await t.storage.query('SELECT * FROM positions ORDER BY broker, account, contract_key');
  const trades = await t.storage.query('SELECT broker, account, trade_id, contract_key, side, quantity, price, executed_at, source FROM trades ORDER BY broker, trade_id');
  const line = (r: unknown) => JSON.stringify(r);
  return { snapshots: snapshots.map(line), positions: positions.map(line), trades: trades.map(line) };
}

/** Query-string schemas of the read routes (validation + /openapi.json). Order of properties = order in messages. */
import { MAX_LIMIT } from '../../db/snapshots.js';
import { querySchema, textParam } from '../validation.js';

const TIME = 'ISO-8601 (no offset = UTC) or epoch milliseconds';
const limit = {
  type: 'integer', minimum: 1, maximum: MAX_LIMIT, description: `rows at most (1..${MAX_LIMIT}, default 100)`,
  'x-error': `limit={value} is not valid: use a whole number from 1 to ${MAX_LIMIT}`,
};

export const SNAPSHOT_QUERY = querySchema({
  broker: textParam('broker id'), account: textParam('account'), contract_key: textParam('contract key (any OCC spelling)'),
  underlying: textParam('underlying symbol'), from: textParam(`event_ts at or after; ${TIME}`), to: textParam(`event_ts before; ${TIME}`), limit,
});

export const TRADE_QUERY = querySchema({
  broker: textParam('broker id'), account: textParam('account'), contract_key: textParam('contract key (any OCC spelling)'),
  from: textParam(`executed_at at or after; ${TIME}`), to: textParam(`executed_at before; ${TIME}`), limit,
});

export const TIMELINE_QUERY = querySchema({
  since: textParam('range = the last D (30s, 15m, 2h, 1d); excludes from/to'),
  from: textParam(`range start; ${TIME}`), to: textParam(`range end (default now); ${TIME}`),
  bucket: textParam('bucket size (default 1m, at least 1s)'), stale: textParam('staleness bound (default 15m)'),
  account: textParam('comma list'), underlying: textParam('comma list'), broker: textParam('comma list'),
  all_accounts: textParam('true: one row per bucket and underlying, summed across accounts'),
  benchmark: textParam('bwd benchmark (default BENCHMARK, else SPY)'),
});

export const paramNames = (schema: { properties: object }) => Object.keys(schema.properties);

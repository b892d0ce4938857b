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
  tz: textParam('IANA zone (America/New_York, UTC) buckets are aligned to, as the CLI --tz; times in the answer stay ISO-8601 UTC'),
});

export const paramNames = (schema: { properties: object }) => Object.keys(schema.properties);

export const ATTRIBUTION_QUERY = querySchema({
  since: textParam(`interval start: a duration back from now (1d, 2h) or ${TIME}; required`),
  until: textParam(`interval end (default now): a duration back from now or ${TIME}`),
  lookback: textParam('a position\'s values at t are its newest snapshot at or before t, at most this old (default 1d)'),
  account: textParam('account'), underlying: textParam('underlying symbol'), broker: textParam('broker id'),
});

const num = { type: ['number', 'null'] } as const;
const parts = { delta_pnl: num, gamma_pnl: num, theta_pnl: num, vega_pnl: num, explained: num, actual: num, residual: num } as const;
const sums = { ...parts, positions: { type: 'integer' }, incomplete: { type: 'integer' } } as const;

/** GET /v1/risk/attribution response (documented in /openapi.json). */
export const ATTRIBUTION_RESPONSE = {
  type: 'object',
  required: ['from', 'to', 'dt_days', 'note', 'positions', 'underlyings', 'totals'],
  properties: {
    from: { type: 'string', format: 'date-time' }, to: { type: 'string', format: 'date-time' }, dt_days: { type: 'number' }, note: { type: 'string' },
    positions: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          broker: { type: 'string' }, account: { type: 'string' }, contract_key: { type: 'string' }, underlying: { type: 'string' }, instrument: { type: 'string' },
          quantity: { type: 'number' }, multiplier: { type: 'number' }, t0_at: { type: ['string', 'null'] }, t1_at: { type: ['string', 'null'] },
          underlying_price_t0: num, underlying_price_t1: num, iv_t0: num, iv_t1: num, mark_t0: num, mark_t1: num,
          delta: num, gamma: num, theta: num, vega: num,
          ...parts,
        },
      },
    },
    underlyings: { type: 'array', items: { type: 'object', properties: { underlying: { type: 'string' }, ...sums } } },
    totals: { type: 'object', properties: sums },
  },
} as const;

/** /v1/risk/positions and /v1/risk/summary: the filters of `npm run risk`. Values are checked by the handler (same messages as before). */
export const RISK_QUERY = querySchema({
  account: textParam('account'), underlying: textParam('underlying symbol'), broker: textParam('broker id'),
  benchmark: textParam('bwd benchmark (default BENCHMARK, else SPY)'),
});

export const RISK_SCENARIOS_QUERY = querySchema({
  ...RISK_QUERY.properties,
  mode: textParam('underlying (default) or beta'),
});

export const ALERTS_QUERY = querySchema({
  open: textParam('1: only alerts still open (0: all)'), since: textParam('opened or closed within the last D (30s, 15m, 2h, 1d)'),
  limit: textParam('alerts at most (1..10000, default 1000)'),
});

/** Routes that take no query parameters. */
export const NO_QUERY = querySchema({});

export const EVENTS_QUERY = querySchema({ ticket: textParam('one-time ticket from POST /v1/events/ticket (when API_TOKEN is set)') });

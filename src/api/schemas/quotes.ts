/** GET /v1/quotes query and POST/DELETE /v1/watchlist body (validation + /openapi.json). */
import { querySchema, textParam } from '../validation.js';

export const MAX_QUOTE_SYMBOLS = 500;

export const QUOTES_QUERY = {
  ...querySchema({
    symbols: {
      ...textParam('comma list of symbols: tickers (SPY, SPX), futures (/ESH7), OCC options (SPY251219C00500000 or the padded key)', 20_000),
      'x-error': 'symbols must be a comma list of symbols, e.g. symbols=SPY,XSP',
    },
  }),
  required: ['symbols'],
};

export const WATCHLIST_BODY_SCHEMA = {
  type: 'object',
  'x-error': 'the body must be a JSON object like {"symbols":["SPY","XSP"]}',
  'x-unknown': 'unknown field {name}: the only field is symbols',
  additionalProperties: false,
  required: ['symbols'],
  properties: {
    symbols: {
      type: 'array', minItems: 1, maxItems: MAX_QUOTE_SYMBOLS,
      items: { type: 'string', minLength: 1, maxLength: 64, 'x-error': 'every symbol must be a string of 1-64 characters' },
      description: 'symbols to add (POST) or remove (DELETE)',
      'x-error': `symbols must be a list of 1-${MAX_QUOTE_SYMBOLS} symbol strings, e.g. ["SPY","XSP"]`,
    },
  },
} as const;

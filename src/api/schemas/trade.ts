/** POST /v1/trades body: the JSON schema (validation + /openapi.json) with the 400 message of each field. */
const ID = (name: string, description: string) => ({
  type: 'string', description, pattern: '^\\s*[A-Za-z0-9_.:@/-]{1,128}\\s*$',
  'x-error': `${name} must be a non-empty string of letters, digits and _.:@/- (at most 128)`,
});

export const TRADE_FIELDS = ['broker', 'account', 'trade_id', 'contract_key', 'side', 'quantity', 'price', 'executed_at', 'source', 'fee'] as const;

export const TRADE_BODY_SCHEMA = {
  type: 'object',
  'x-error': 'the body must be a JSON object',
  'x-unknown': `unknown field {name}: the fields are ${TRADE_FIELDS.join(', ')}`,
  additionalProperties: false,
  required: ['broker', 'account', 'trade_id', 'contract_key', 'side', 'quantity', 'price', 'executed_at'],
  properties: {
    broker: ID('broker', 'broker id (tasty, ibkr, manual...)'),
    account: ID('account', 'account at the broker'),
    trade_id: ID('trade_id', 'unique per broker: a repeat is a 200 and the first trade is kept'),
    contract_key: {
      type: 'string', description: 'OCC option symbol, any accepted spelling; stored canonical (padded)', example: 'SPY   251219C00500000',
      'x-error': 'contract_key must be an OCC option symbol like "SPY   251219C00500000"',
    },
    side: { type: 'string', enum: ['buy', 'sell'], 'x-error': 'side must be "buy" or "sell"' },
    quantity: { type: 'number', exclusiveMinimum: 0, description: 'contracts, > 0 (the side says buy or sell)', 'x-error': 'quantity must be a number > 0 (the side says buy or sell)' },
    price: { type: 'number', minimum: 0, description: 'per unit, >= 0', 'x-error': 'price must be a number >= 0' },
    executed_at: { type: ['string', 'number'], description: 'ISO-8601 (no offset = UTC) or epoch milliseconds', 'x-error': 'executed_at must be ISO-8601 or epoch milliseconds' },
    fee: {
      type: ['number', 'null'], minimum: -1e9, maximum: 1e9, description: 'fees of the fill in currency (commission + exchange/clearing/regulatory), positive = paid, negative = a rebate; optional, null = not known',
      'x-error': 'fee must be a number from -1e9 to 1e9 (currency, positive = paid) or null',
    },
    source: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'default "manual"', 'x-error': 'source must be a short word (letters, digits, _.-), default "manual"' },
  },
} as const;

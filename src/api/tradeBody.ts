/**
 * Validation of POST /v1/trades bodies: untrusted JSON → TradeRow, or a 400 naming the first
 * problem. Pure. The contract key must be an OCC option symbol (any accepted spelling; stored
 * in the canonical padded form so it joins with greek_snapshots).
 */
import { canonicalOcc, ContractKeyError } from '../core/contract.js';
import { ConfigError } from '../core/errors.js';
import type { TradeRow } from '../core/types.js';
import { badRequest } from './errors.js';
import { parseInstant } from './params.js';

const FIELDS = ['broker', 'account', 'trade_id', 'contract_key', 'side', 'quantity', 'price', 'executed_at', 'source'];
const ID_RE = /^[A-Za-z0-9_.:@/-]{1,128}$/;

export function parseTradeBody(body: unknown): TradeRow {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const unknown = Object.keys(b).filter((k) => !FIELDS.includes(k));
  if (unknown.length) throw badRequest(`unknown field ${unknown[0]}: the fields are ${FIELDS.join(', ')}`);

  const id = (k: string): string => {
    const v = b[k];
    if (typeof v !== 'string' || !ID_RE.test(v.trim())) throw badRequest(`${k} must be a non-empty string of letters, digits and _.:@/- (at most 128)`);
    return v.trim();
  };
  const broker = id('broker');
  const account = id('account');
  const tradeId = id('trade_id');

  if (typeof b.contract_key !== 'string') throw badRequest('contract_key must be an OCC option symbol like "SPY   251219C00500000"');
  let contractKey: string;
  try {
    contractKey = canonicalOcc(b.contract_key);
  } catch (err) {
    throw badRequest(`contract_key: ${err instanceof ContractKeyError ? err.message : String(err)}`);
  }

  if (b.side !== 'buy' && b.side !== 'sell') throw badRequest('side must be "buy" or "sell"');
  const quantity = b.quantity;
  if (typeof quantity !== 'number' || !Number.isFinite(quantity) || quantity <= 0) throw badRequest('quantity must be a number > 0 (the side says buy or sell)');
  const price = b.price;
  if (typeof price !== 'number' || !Number.isFinite(price) || price < 0) throw badRequest('price must be a number >= 0');

  if (typeof b.executed_at !== 'string' && typeof b.executed_at !== 'number') throw badRequest('executed_at must be ISO-8601 or epoch milliseconds');
  let executedAt: number;
  try {
    executedAt = parseInstant(String(b.executed_at), 'executed_at');
  } catch (err) {
    throw badRequest(err instanceof ConfigError ? err.message : String(err));
  }

  let source = 'manual';
  if (b.source !== undefined) {
    if (typeof b.source !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(b.source)) throw badRequest('source must be a short word (letters, digits, _.-), default "manual"');
    source = b.source;
  }
  return { broker, account, tradeId, contractKey, side: b.side, quantity, price, executedAt, source };
}

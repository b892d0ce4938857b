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
import { TRADE_BODY_SCHEMA } from './schemas/trade.js';
import { validator } from './validation.js';

const checkShape = validator(TRADE_BODY_SCHEMA, 'body');

/** The JSON schema checks fields, types and bounds (its messages); this adds what a schema cannot: the OCC key and the instant. */
export function parseTradeBody(body: unknown): TradeRow {
  checkShape(body);
  const b = body as Record<string, unknown> & { side: 'buy' | 'sell'; quantity: number; price: number };
  const broker = String(b.broker).trim();
  const account = String(b.account).trim();
  const tradeId = String(b.trade_id).trim();

  let contractKey: string;
  try {
    contractKey = canonicalOcc(String(b.contract_key));
  } catch (err) {
    throw badRequest(`contract_key: ${err instanceof ContractKeyError ? err.message : String(err)}`);
  }

  let executedAt: number;
  try {
    executedAt = parseInstant(String(b.executed_at), 'executed_at');
  } catch (err) {
    throw badRequest(err instanceof ConfigError ? err.message : String(err));
  }
  const source = typeof b.source === 'string' ? b.source : 'manual';
  const fees = typeof b.fee === 'number' ? b.fee : null;
  return { broker, account, tradeId, contractKey, side: b.side, quantity: b.quantity, price: b.price, executedAt, source, fees };
}

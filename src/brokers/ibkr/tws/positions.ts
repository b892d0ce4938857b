/**
 * TWS `position(account, contract, pos, avgCost)` → canonical Position (pure).
 */
import type { Contract } from '@stoqey/ib';
import { canonicalOcc, isOccKey } from '../../../core/contract.js';
import type { Position } from '../../../core/types.js';
import { ibkrContractKey } from '../contract.js';
import { errorText } from '../../../core/errors.js';

export const BROKER = 'ibkr';

export interface MappedPosition {
  position: Position;
  /** The contract to pass to reqMktData, for options only. */
  marketData?: Contract;
}

export type PositionResult = { ok: true; value: MappedPosition } | { ok: false; reason: string };

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/**
 * The OCC key of an option. TWS's localSymbol of a US equity/index option *is* the OCC symbol
 * ("SPXW  261218P05000000"), so it wins when it parses; otherwise the key is built from the
 * fields, with the trading class as OCC root (SPX weeklies → SPXW).
 */
function optionKey(c: Contract): { contractKey: string; underlying: string } {
  const local = (c.localSymbol ?? '').toUpperCase();
  if (local && isOccKey(local)) {
    return { contractKey: canonicalOcc(local), underlying: (c.symbol ?? '').trim().toUpperCase() };
  }
  return ibkrContractKey({
    symbol: c.symbol ?? '',
    expiry: String(c.lastTradeDateOrContractMonth ?? ''),
    right: String(c.right ?? ''),
    strike: Number(c.strike),
    tradingClass: c.tradingClass,
  });
}

/** Canonical key for non-options: the symbol for stocks (matches underlying quote keys), else secType:conId. */
function otherKey(c: Contract, secType: string): string {
  if (secType === 'STK') return (c.symbol ?? '').trim().toUpperCase();
  if (secType === 'FUT' && c.localSymbol) return c.localSymbol.trim().toUpperCase();
  return `${secType}:${c.conId ?? c.localSymbol ?? c.symbol}`;
}

export function mapTwsPosition(account: string, contract: Contract, pos: number | undefined, avgCost: number | undefined): PositionResult {
  if (!account) return { ok: false, reason: 'position: empty account' };
  const quantity = num(pos);
  if (quantity === null) return { ok: false, reason: 'position: quantity is not a number' };
  const secType = String(contract.secType ?? '').toUpperCase();
  const isOption = secType === 'OPT';
  // TWS sends multiplier 0 / empty for stocks; options default to the US standard 100.
  const mult = num(contract.multiplier);
  const multiplier = mult && mult > 0 ? mult : isOption ? 100 : 1;
  // avgCost is per contract *including* the multiplier (250.5 for an option bought at 2.505).
  const cost = num(avgCost);
  const avgPrice = cost === null ? null : cost / multiplier;
  if (isOption) {
    let key: { contractKey: string; underlying: string };
    try {
      key = optionKey(contract);
    } catch (err) {
      return { ok: false, reason: `position: ${errorText(err)}` };
    }
    const position: Position = {
      broker: BROKER, account, contractKey: key.contractKey, underlying: key.underlying,
      quantity, multiplier, avgPrice, assetClass: 'option',
    };
    const marketData: Contract = {
      conId: contract.conId,
      symbol: contract.symbol,
      secType: contract.secType,
      lastTradeDateOrContractMonth: contract.lastTradeDateOrContractMonth,
      strike: contract.strike,
      right: contract.right,
      multiplier: contract.multiplier,
      // Positions come without an exchange; market data needs one and SMART always works.
      exchange: contract.exchange || 'SMART',
      currency: contract.currency || 'USD',
      localSymbol: contract.localSymbol,
      tradingClass: contract.tradingClass,
    };
    return { ok: true, value: { position, marketData } };
  }
  const assetClass = secType === 'STK' ? 'equity' : secType === 'FUT' ? 'future' : 'other';
  const contractKey = otherKey(contract, secType);
  const underlying = (contract.symbol ?? '').trim().toUpperCase();
  return { ok: true, value: { position: { broker: BROKER, account, contractKey, underlying, quantity, multiplier, avgPrice, assetClass } } };
}

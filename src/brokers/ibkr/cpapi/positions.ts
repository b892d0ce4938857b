/**
 * `/portfolio/{acct}/positions/{page}` rows → canonical positions. Pure.
 *
 * The contract key prefers the OCC symbol the gateway puts in brackets in `contractDesc`
 * ("SPX    DEC2026 5000 P [SPXW  261218P05000000 100]"): it carries the trading class (SPXW)
 * that the separate fields lose. Without it, the fields are used with the trading class when
 * present, else the underlying symbol (decision record: specs/ibkr.md "SPX vs SPXW").
 */
import { canonicalOcc, parseOcc, underlyingOfRoot } from '../../../core/contract.js';
import type { Position } from '../../../core/types.js';
import { ibkrContractKey } from '../contract.js';
import { errorText } from '../../../core/errors.js';

export const BROKER = 'ibkr';

/** A held option and what to subscribe for it. */
export interface OptionHolding {
  conid: number;
  contractKey: string;
  underlying: string;
  /** The underlying's conid when the gateway gave it (positions `undConid`). */
  undConid: number | null;
}

export type MappedPosition =
  | { ok: true; position: Position; option: OptionHolding | null }
  | { ok: false; reason: string };

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v.replace(/,/g, '')) : NaN;
  return Number.isFinite(n) ? n : null;
}

const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : '');

/** The bracketed OCC symbol and multiplier of an option's contractDesc, if present. */
export function occFromDescription(desc: string): { contractKey: string; multiplier: number | null } | null {
  const m = desc.match(/\[\s*([A-Z0-9]{1,6}\s*\d{6}[CP]\d{8})(?:\s+(\d+(?:\.\d+)?))?\s*\]/);
  if (!m) return null;
  try {
    return { contractKey: canonicalOcc(m[1]), multiplier: m[2] ? Number(m[2]) : null };
  } catch {
    return null;
  }
}

function assetClassOf(raw: string): Position['assetClass'] {
  if (raw === 'OPT') return 'option';
  if (raw === 'STK') return 'equity';
  if (raw === 'FUT') return 'future';
  return 'other';
}

/** Maps one raw position row. Closed rows (position 0) map to ok:false with reason 'closed'. */
export function mapPosition(account: string, raw: unknown): MappedPosition {
  if (!raw || typeof raw !== 'object') return { ok: false, reason: 'position row is not an object' };
  const r = raw as Record<string, unknown>;
  const conid = num(r.conid);
  const quantity = num(r.position);
  if (conid === null || !Number.isInteger(conid)) return { ok: false, reason: 'position without conid' };
  if (quantity === null) return { ok: false, reason: `position ${conid} without a numeric size` };
  if (quantity === 0) return { ok: false, reason: 'closed' };
  const assetClass = assetClassOf(str(r.assetClass).toUpperCase());
  const desc = str(r.contractDesc) || str(r.fullName);
  const avgCost = num(r.avgCost);

  if (assetClass !== 'option') {
    const key = str(r.ticker) || desc || String(conid);
    const multiplier = num(r.multiplier) || 1;
    const avgPrice = avgCost !== null ? avgCost / multiplier : num(r.avgPrice);
    const position: Position = { broker: BROKER, account, contractKey: key, underlying: str(r.undSym) || key, quantity, multiplier, avgPrice, assetClass };
    return { ok: true, position, option: null };
  }

  let contractKey: string;
  let underlying: string;
  let multiplier = num(r.multiplier);
  const bracket = occFromDescription(desc);
  try {
    if (bracket) {
      contractKey = bracket.contractKey;
      underlying = str(r.undSym).toUpperCase() || underlyingOfRoot(parseOcc(contractKey).root);
      multiplier = multiplier || bracket.multiplier;
    } else {
      const strike = num(r.strike);
      const symbol = str(r.undSym) || str(r.ticker);
      if (!symbol || strike === null || !str(r.expiry) || !str(r.putOrCall)) {
        return { ok: false, reason: `option ${conid} lacks symbol/strike/expiry/right and an OCC description` };
      }
      ({ contractKey, underlying } = ibkrContractKey({ symbol, expiry: str(r.expiry), right: str(r.putOrCall), strike, tradingClass: str(r.tradingClass) || null }));
    }
  } catch (err) {
    return { ok: false, reason: `option ${conid}: ${errorText(err)}` };
  }
  multiplier = multiplier || 100;
  const avgPrice = avgCost !== null ? avgCost / multiplier : num(r.avgPrice);
  const undConid = num(r.undConid);
  const position: Position = { broker: BROKER, account, contractKey, underlying, quantity, multiplier, avgPrice, assetClass };
  return {
    ok: true,
    position,
    option: { conid, contractKey, underlying, undConid: undConid !== null && Number.isInteger(undConid) && undConid > 0 ? undConid : null },
  };
}

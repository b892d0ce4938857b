/**
 * Tastytrade REST positions (kebab-case JSON) → canonical Positions, plus what to stream for
 * each. Pure: the caller does the HTTP and decides what to do with skipped items.
 */
import { canonicalOcc, parseOcc, underlyingOfRoot } from '../../core/contract.js';
import { finiteOrNull, type Position } from '../../core/types.js';
import { occToStreamer } from './symbols.js';

export const BROKER = 'tasty';

export interface TastyPosition {
  position: Position;
  /** DXLink symbol to subscribe: the option's streamer symbol, or the equity symbol itself. */
  streamerSymbol: string | null;
}

export type MappedPosition = { ok: true; value: TastyPosition } | { ok: false; reason: string };

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

/** Account numbers from GET /customers/me/accounts (items are {account: {...}} in the real API). */
export function accountNumbersOf(items: unknown): string[] {
  if (!Array.isArray(items)) return [];
  const out: string[] = [];
  for (const it of items) {
    const rec = (it ?? {}) as Record<string, unknown>;
    const acct = (rec.account ?? rec) as Record<string, unknown>;
    const n = str(acct['account-number']).trim();
    if (n && !out.includes(n)) out.push(n);
  }
  return out;
}

export function mapPosition(account: string, raw: unknown): MappedPosition {
  if (!raw || typeof raw !== 'object') return { ok: false, reason: 'position is not an object' };
  const r = raw as Record<string, unknown>;
  const symbol = str(r.symbol);
  const type = str(r['instrument-type']);
  const qty = finiteOrNull(r.quantity);
  if (!symbol) return { ok: false, reason: 'position without symbol' };
  if (qty === null) return { ok: false, reason: `position ${symbol}: quantity is not a number` };
  const direction = str(r['quantity-direction']).toLowerCase();
  // Tastytrade sends unsigned quantities; the direction carries the sign (trust a signed
  // quantity only when there is no direction at all).
  const signed = direction === 'short' ? -Math.abs(qty) : direction === 'long' ? Math.abs(qty) : direction === 'zero' ? 0 : qty;
  const multiplier = finiteOrNull(r.multiplier) ?? (type === 'Equity' ? 1 : 100);
  const avgPrice = finiteOrNull(r['average-open-price']);
  const underlyingRaw = str(r['underlying-symbol']).trim();
  const base = { broker: BROKER, account: str(r['account-number']) || account, quantity: signed, multiplier, avgPrice };

  // An unknown or missing instrument type whose symbol is a valid OCC symbol is still an option.
  const occShaped = !['Equity', 'Index', 'Future', 'Future Option', 'Cryptocurrency'].includes(type) && looksLikeOcc(symbol);
  if (type === 'Equity Option' || type === 'Index Option' || occShaped) {
    let contractKey: string;
    try {
      contractKey = canonicalOcc(symbol);
    } catch {
      return { ok: false, reason: `option ${symbol}: not an OCC symbol` };
    }
    const underlying = underlyingRaw || underlyingOfRoot(parseOcc(contractKey).root);
    const streamer = str(r['streamer-symbol']) || occToStreamer(contractKey);
    return { ok: true, value: { position: { ...base, contractKey, underlying, assetClass: 'option' }, streamerSymbol: streamer } };
  }
  if (type === 'Equity' || type === 'Index') {
    const sym = symbol.trim();
    return { ok: true, value: { position: { ...base, contractKey: sym, underlying: underlyingRaw || sym, assetClass: 'equity' }, streamerSymbol: sym } };
  }
  if (type === 'Future') {
    // Futures need /instruments/futures for their streamer symbol: kept as positions, not streamed.
    return { ok: true, value: { position: { ...base, contractKey: symbol.trim(), underlying: underlyingRaw || symbol.trim(), assetClass: 'future' }, streamerSymbol: null } };
  }
  return { ok: true, value: { position: { ...base, contractKey: symbol.trim(), underlying: underlyingRaw || symbol.trim(), assetClass: 'other' }, streamerSymbol: null } };
}

/** Maps every item; closed (zero-quantity) positions are dropped, unusable ones reported. */
export function mapPositions(account: string, items: unknown): { positions: TastyPosition[]; skipped: string[] } {
  const positions: TastyPosition[] = [];
  const skipped: string[] = [];
  if (!Array.isArray(items)) return { positions, skipped: ['positions response is not a list'] };
  for (const it of items) {
    const m = mapPosition(account, it);
    if (!m.ok) skipped.push(m.reason);
    else if (m.value.position.quantity !== 0) positions.push(m.value);
  }
  return { positions, skipped };
}

function looksLikeOcc(symbol: string): boolean {
  try {
    canonicalOcc(symbol);
    return true;
  } catch {
    return false;
  }
}

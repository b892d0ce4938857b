/**
 * Tastytrade REST positions (kebab-case JSON) → canonical Positions, plus what to stream for
 * each. Pure: the caller does the HTTP and decides what to do with skipped items.
 */
import { canonicalFutureKey, canonicalFutureOptionKey, canonicalOcc, futureKey, parseFutureOptionKey, parseOcc, underlyingOfRoot } from '../../core/contract.js';
import { finiteOrNull, type Position } from '../../core/types.js';
import { futureOptionStreamerSymbol, futureStreamerSymbol, occToStreamer, streamerExchange } from './symbols.js';

export const BROKER = 'tasty';

export interface TastyPosition {
  position: Position;
  /** DXLink symbol to subscribe: the option's streamer symbol, or the equity symbol itself. */
  streamerSymbol: string | null;
  /**
   * Futures and futures options: the future (`/ESH7`) whose instrument (GET /instruments/futures)
   * gives the DXLink symbols and, when the position lacks one, the $/point multiplier
   * (`notional-multiplier`). Resolved by resolveFutures before the position is used.
   */
  future?: string;
  /** DXLink symbol quoted for the underlying when it differs from `position.underlying` (FOPs: the future's). */
  underlyingStreamer?: string;
}

/** What GET /instruments/futures says about one future (only what we use). */
export interface FutureInstrument {
  symbol: string;
  streamerSymbol: string | null;
  exchangeCode: string | null;
  notionalMultiplier: number | null;
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
    // Keyed `/ESH7`; its own underlying (a future's options group with it). Streamer symbol and
    // a missing multiplier come from /instruments/futures (resolveFutures).
    let key: string;
    try {
      key = canonicalFutureKey(symbol);
    } catch {
      return { ok: false, reason: `future ${symbol}: not a futures symbol` };
    }
    const mult = finiteOrNull(r.multiplier);
    const streamer = str(r['streamer-symbol']) || null;
    return { ok: true, value: { position: { ...base, multiplier: mult && mult > 0 ? mult : 0, contractKey: key, underlying: key, assetClass: 'future' }, streamerSymbol: streamer, future: key } };
  }
  if (type === 'Future Option') {
    // Keyed `./ESH7 EW4G7 270226C5750`; classed 'option' (it has Greeks), its underlying is the
    // future. The FOP instrument's `multiplier` is 1.0 and never $/point: the position's
    // multiplier when it says more than 1, else the future's notional-multiplier.
    let key: string;
    let fut: string;
    try {
      key = canonicalFutureOptionKey(symbol);
      fut = futureKey(parseFutureOptionKey(key).future);
    } catch {
      return { ok: false, reason: `future option ${symbol}: not a futures option symbol` };
    }
    const mult = finiteOrNull(r.multiplier);
    const streamer = str(r['streamer-symbol']) || null;
    return { ok: true, value: { position: { ...base, multiplier: mult && mult > 1 ? mult : 0, contractKey: key, underlying: fut, assetClass: 'option' }, streamerSymbol: streamer, future: fut } };
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

/** One item of GET /instruments/futures (kebab-case, numbers as strings). */
export function parseFutureInstrument(raw: unknown): FutureInstrument | null {
  if (!raw || typeof raw !== 'object') return null;
  const r = raw as Record<string, unknown>;
  let symbol: string;
  try {
    symbol = canonicalFutureKey(str(r.symbol));
  } catch {
    return null;
  }
  const streamerSymbol = str(r['streamer-symbol']) || null;
  const exchangeCode = str(r['streamer-exchange-code']) || (streamerSymbol ? streamerExchange(streamerSymbol) : null);
  const nm = finiteOrNull(r['notional-multiplier']);
  return { symbol, streamerSymbol, exchangeCode, notionalMultiplier: nm !== null && nm > 0 ? nm : null };
}

/** The futures whose instruments the positions need (unresolved multiplier or streamer symbol). */
export function futuresToResolve(positions: TastyPosition[]): string[] {
  const out = new Set<string>();
  for (const p of positions) if (p.future && (p.position.multiplier === 0 || !p.streamerSymbol || !p.underlyingStreamer)) out.add(p.future);
  return [...out];
}

/**
 * Fills streamer symbols and missing multipliers of futures and FOP positions from their
 * futures' instruments. A position whose future is unknown, or whose multiplier stays unknown,
 * is returned in `skipped` with the reason (never kept with the FOP instrument's 1.0).
 */
export function resolveFutures(positions: TastyPosition[], instruments: Map<string, FutureInstrument>): { positions: TastyPosition[]; skipped: string[] } {
  const out: TastyPosition[] = [];
  const skipped: string[] = [];
  for (const p of positions) {
    if (!p.future) {
      out.push(p);
      continue;
    }
    const inst = instruments.get(p.future);
    const multiplier = p.position.multiplier > 0 ? p.position.multiplier : inst?.notionalMultiplier ?? null;
    if (multiplier === null) {
      skipped.push(`${p.position.contractKey}: multiplier unknown (no position multiplier and no notional-multiplier for ${p.future})`);
      continue;
    }
    const exchange = inst?.exchangeCode ?? (p.streamerSymbol ? streamerExchange(p.streamerSymbol) : null);
    const futureStreamer = inst?.streamerSymbol ?? (exchange ? safe(() => futureStreamerSymbol(p.future!, exchange)) : null);
    let streamerSymbol = p.streamerSymbol;
    if (!streamerSymbol) {
      streamerSymbol = p.position.assetClass === 'future' ? futureStreamer : exchange ? safe(() => futureOptionStreamerSymbol(p.position.contractKey, exchange)) : null;
    }
    out.push({ ...p, position: { ...p.position, multiplier }, streamerSymbol, underlyingStreamer: futureStreamer ?? undefined });
  }
  return { positions: out, skipped };
}

function safe<T>(fn: () => T): T | null {
  try {
    return fn();
  } catch {
    return null;
  }
}

function looksLikeOcc(symbol: string): boolean {
  try {
    canonicalOcc(symbol);
    return true;
  } catch {
    return false;
  }
}

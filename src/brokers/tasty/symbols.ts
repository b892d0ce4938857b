/**
 * Tastytrade/DXLink option symbols ↔ canonical OCC contract keys. Pure functions.
 *   OCC 'SPY   251219C00500000'  ↔  streamer '.SPY251219C500'
 *   OCC 'SPXW  240119P04975000'  ↔  streamer '.SPXW240119P4975'
 *   strikes keep their decimals without trailing zeros: '.SPY251219P502.5'
 */
import { canonicalFutureKey, ContractKeyError, futureKey, occKey, parseFutureKey, parseFutureOptionKey, parseOcc, type OptionContract } from '../../core/contract.js';

// The root is everything before the last 6 digits that precede C/P: roots may contain digits (AAPL1).
const STREAMER_OPTION_RE = /^\.([A-Z0-9]{1,6}?)(\d{6})([CP])(\d+(?:\.\d+)?)$/;

export function isStreamerOption(symbol: string): boolean {
  return symbol.startsWith('.');
}

/** Formats a strike the way DXLink does: shortest decimal, no trailing zeros, no exponent. */
export function formatStrike(strike: number): string {
  const milli = Math.round(strike * 1000);
  const whole = Math.floor(milli / 1000);
  const frac = milli % 1000;
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

export function streamerSymbolOf(contract: OptionContract): string {
  const key = occKey(contract); // validates and normalises
  return `.${key.slice(0, 6).trimEnd()}${key.slice(6, 12)}${key[12]}${formatStrike(contract.strike)}`;
}

/** OCC key (padded or compact) → DXLink streamer symbol. */
export function occToStreamer(occ: string): string {
  return streamerSymbolOf(parseOcc(occ));
}

/** Parses a DXLink option symbol; throws ContractKeyError when it is not one. */
export function parseStreamerOption(symbol: string): OptionContract {
  const m = symbol.trim().match(STREAMER_OPTION_RE);
  if (!m) throw new ContractKeyError(`not a DXLink option symbol: "${symbol}"`);
  const [, root, yymmdd, right, strike] = m;
  return { root, expiry: yymmdd, right: right as 'C' | 'P', strike: Number(strike) };
}

/** DXLink option symbol → canonical OCC key, or null when it cannot be one. */
export function streamerToOcc(symbol: string): string | null {
  try {
    return occKey(parseStreamerOption(symbol));
  } catch {
    return null;
  }
}

// ---- futures and futures options ---------------------------------------------------------
//   future         /ESH7                        ↔  DXLink '/ESH27:XCME' (two-digit year + ':' exchange)
//   futures option ./ESH7 EW4G7 270226C5750     →  DXLink './EW4G27C5750:XCME' (no underlying, no day)

const STREAMER_FUTURE_RE = /^\/([A-Z0-9]{1,5}?)([FGHJKMNQUVXZ])(\d{2}):([A-Z0-9]+)$/;

/** `/ESH7` (+ exchange code XCME) → `/ESH27:XCME`. `refYear` resolves the one-digit year. */
export function futureStreamerSymbol(key: string, exchangeCode: string, refYear?: number): string {
  const f = parseFutureKey(key, refYear);
  return `/${f.root}${futureKey(f).slice(-2, -1)}${String(f.year % 100).padStart(2, '0')}:${exchangeCode.trim().toUpperCase()}`;
}

/** `/ESH27:XCME` → `/ESH7`, or null when it is not a DXLink futures symbol. */
export function streamerToFutureKey(symbol: string): string | null {
  const m = symbol.trim().toUpperCase().match(STREAMER_FUTURE_RE);
  if (!m) return null;
  try {
    return canonicalFutureKey(`/${m[1]}${m[2]}${m[3]}`);
  } catch {
    return null;
  }
}

/** `./ESH7 EW4G7 270226C5750` (+ XCME) → `./EW4G27C5750:XCME`. */
export function futureOptionStreamerSymbol(key: string, exchangeCode: string): string {
  const o = parseFutureOptionKey(key);
  const y = Number(o.expiry.slice(0, 4));
  const code = futureKey({ root: 'X', month: Number(o.expiry.slice(5, 7)), year: y }).slice(2, 3);
  return `./${o.optionRoot}${code}${String(y % 100).padStart(2, '0')}${o.right}${formatStrike(o.strike)}:${exchangeCode.trim().toUpperCase()}`;
}

/** The exchange code of a DXLink symbol (`/ESH27:XCME` → XCME), or null. */
export function streamerExchange(symbol: string): string | null {
  const i = symbol.lastIndexOf(':');
  return i > 0 ? symbol.slice(i + 1) || null : null;
}

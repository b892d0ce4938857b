/**
 * Tastytrade/DXLink option symbols ↔ canonical OCC contract keys. Pure functions.
 *   OCC 'SPY   251219C00500000'  ↔  streamer '.SPY251219C500'
 *   OCC 'SPXW  240119P04975000'  ↔  streamer '.SPXW240119P4975'
 *   strikes keep their decimals without trailing zeros: '.SPY251219P502.5'
 */
import { ContractKeyError, occKey, parseOcc, type OptionContract } from '../../core/contract.js';

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

/**
 * Canonical contract identity. Equity and index options use the 21-character OCC symbol:
 * root left-aligned and space-padded to 6, expiry yymmdd, C or P, strike x 1000 in 8 digits.
 *   SPY   251219C00500000   SPXW  251219P05000000   AAPL  250117C00502500
 * The same contract has the same key at every broker; each broker plugin maps into it.
 */

export type OptionRight = 'C' | 'P';

/**
 * A canonical contract key: the padded 21-character OCC symbol for an option, the symbol as
 * given for anything else. A branded string: it is still a string everywhere one is read, but
 * only occKey(), canonicalOcc() and contractKey() make one, so a raw broker symbol cannot pass
 * for a key where the type asks for ContractKey.
 */
export type ContractKey = string & { readonly __brand: 'ContractKey' };

export interface OptionContract {
  /** OCC root, 1-6 characters: letters, digits (adjusted roots like 'AAPL1'). */
  root: string;
  /** Expiry date as 'YYYY-MM-DD'. */
  expiry: string;
  right: OptionRight;
  strike: number;
}

export class ContractKeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContractKeyError';
  }
}

const ROOT_RE = /^[A-Z0-9]{1,6}$/;
const OCC_RE = /^([A-Z0-9 ]{6})(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/;

/** Normalises 'YYYY-MM-DD', 'YYYYMMDD' or 'yymmdd' to 'YYYY-MM-DD'. */
export function normaliseExpiry(expiry: string): string {
  const s = expiry.trim();
  let y: number, m: number, d: number;
  let match: RegExpMatchArray | null;
  if ((match = s.match(/^(\d{4})-(\d{2})-(\d{2})$/)) || (match = s.match(/^(\d{4})(\d{2})(\d{2})$/))) {
    [y, m, d] = [Number(match[1]), Number(match[2]), Number(match[3])];
  } else if ((match = s.match(/^(\d{2})(\d{2})(\d{2})$/))) {
    [y, m, d] = [2000 + Number(match[1]), Number(match[2]), Number(match[3])];
  } else {
    throw new ContractKeyError(`invalid expiry "${expiry}": expected YYYY-MM-DD, YYYYMMDD or yymmdd`);
  }
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) {
    throw new ContractKeyError(`invalid expiry "${expiry}": no such date`);
  }
  if (y < 2000 || y > 2099) throw new ContractKeyError(`invalid expiry "${expiry}": year outside 2000-2099`);
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** Builds the 21-char OCC key. Throws ContractKeyError on anything that cannot be represented. */
export function occKey(c: OptionContract): ContractKey {
  const root = c.root.trim().toUpperCase();
  if (!ROOT_RE.test(root)) throw new ContractKeyError(`invalid option root "${c.root}": 1-6 letters or digits`);
  if (c.right !== 'C' && c.right !== 'P') throw new ContractKeyError(`invalid option right "${String(c.right)}": C or P`);
  if (!Number.isFinite(c.strike) || c.strike <= 0) throw new ContractKeyError(`invalid strike ${c.strike}: must be > 0`);
  const milli = Math.round(c.strike * 1000);
  if (Math.abs(milli - c.strike * 1000) > 1e-6 * Math.max(1, c.strike)) {
    throw new ContractKeyError(`invalid strike ${c.strike}: more than 3 decimals`);
  }
  if (milli > 99_999_999) throw new ContractKeyError(`invalid strike ${c.strike}: above 99999.999`);
  const iso = normaliseExpiry(c.expiry);
  const yymmdd = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10);
  return `${root.padEnd(6, ' ')}${yymmdd}${c.right}${String(milli).padStart(8, '0')}` as ContractKey;
}

/** Parses an OCC key (padded 21 chars, or the unpadded form 'SPY251219C00500000'). */
export function parseOcc(key: string): OptionContract {
  let s = key;
  if (!OCC_RE.test(s)) {
    const compact = key.trim().match(/^([A-Z0-9]{1,6})\s*(\d{6}[CP]\d{8})$/);
    if (!compact) throw new ContractKeyError(`invalid OCC symbol "${key}": expected ROOT(6)yymmdd(C|P)strike(8)`);
    s = compact[1].padEnd(6, ' ') + compact[2];
  }
  const m = s.match(OCC_RE)!;
  const root = m[1].trimEnd();
  if (!ROOT_RE.test(root)) throw new ContractKeyError(`invalid OCC symbol "${key}": bad root`);
  const expiry = normaliseExpiry(`${m[2]}${m[3]}${m[4]}`);
  return { root, expiry, right: m[5] as OptionRight, strike: Number(m[6]) / 1000 };
}

export function isOccKey(key: string): boolean {
  return OCC_RE.test(key) && ROOT_RE.test(key.slice(0, 6).trimEnd());
}

/** Normalises any accepted OCC spelling to the canonical padded key. */
export function canonicalOcc(key: string): ContractKey {
  return occKey(parseOcc(key));
}

/**
 * The one normaliser into a ContractKey: any accepted OCC spelling (padded or compact) becomes
 * the canonical padded key; anything else (an underlying's symbol) is kept as given, trimmed.
 */
export function contractKey(raw: string): ContractKey {
  const s = raw.trim();
  if (isOccKey(raw) || /^[A-Z0-9]{1,6}\s*\d{6}[CP]\d{8}$/.test(s)) return canonicalOcc(raw);
  return s as ContractKey;
}

/**
 * The underlying a root belongs to. Weekly/PM-settled index roots trade under a different
 * OCC root than their underlying (SPXW → SPX, NDXP → NDX, RUTW → RUT, VIXW → VIX).
 */
const ROOT_UNDERLYING: Record<string, string> = { SPXW: 'SPX', SPXPM: 'SPX', NDXP: 'NDX', RUTW: 'RUT', VIXW: 'VIX', XSPW: 'XSP' };

export function underlyingOfRoot(root: string): string {
  const r = root.trim().toUpperCase();
  return ROOT_UNDERLYING[r] ?? r.replace(/\d+$/, '');
}

// ---- futures and futures options (interface.md: `/ESH7`, `./ESH7 EW4G7 270226C5750`) -------

/** CME month codes, January..December. */
export const MONTH_CODES = 'FGHJKMNQUVXZ';

export interface FutureContract {
  /** Product root without the slash: ES, MES, ZN, CL. */
  root: string;
  /** Contract month 1-12. */
  month: number;
  /** Full year (2027). */
  year: number;
}

export interface FutureOptionContract {
  /** The underlying future. */
  future: FutureContract;
  /** Option class / root: EW4 (tastytrade `option-root-symbol`, IBKR `tradingClass`). */
  optionRoot: string;
  /** Expiry date 'YYYY-MM-DD'. */
  expiry: string;
  right: OptionRight;
  strike: number;
}

const FUT_ROOT_RE = /^[A-Z0-9]{1,5}$/;
const FUTURE_KEY_RE = /^\/([A-Z0-9]{1,5}?)([FGHJKMNQUVXZ])(\d{1,2})$/;
const FOP_KEY_RE = /^\.\/([A-Z0-9]{1,5}?[FGHJKMNQUVXZ]\d{1,2})\s+([A-Z0-9]{1,6}?)([FGHJKMNQUVXZ])(\d{1,2})\s+(\d{2})(\d{2})(\d{2})([CP])(\d+(?:\.\d+)?)$/;

/** 'H' for March. */
export function monthCode(month: number): string {
  if (!Number.isInteger(month) || month < 1 || month > 12) throw new ContractKeyError(`invalid contract month ${month}`);
  return MONTH_CODES[month - 1];
}

/**
 * The full year of a contract year: two digits are 20xx; one digit is the first year ≥
 * `fromYear - 1` ending in it (futures list under 10 years ahead; one year back allows a
 * contract that just expired).
 */
export function yearOfDigits(digits: string, fromYear: number): number {
  const n = Number(digits);
  if (digits.length === 2) return 2000 + n; // two digits (DXLink) are unambiguous
  const mod = 10;
  let y = fromYear - 1 - ((fromYear - 1) % mod) + n;
  if (y < fromYear - 1) y += mod;
  return y;
}

/** `/ESH7`: slash, root, month code, one-digit year (Tastytrade's instrument form). */
export function futureKey(f: FutureContract): string {
  const root = f.root.replace(/^\//, '').trim().toUpperCase();
  if (!FUT_ROOT_RE.test(root)) throw new ContractKeyError(`invalid futures root "${f.root}"`);
  if (!Number.isInteger(f.year) || f.year < 2000 || f.year > 2099) throw new ContractKeyError(`invalid futures year ${f.year}`);
  return `/${root}${monthCode(f.month)}${f.year % 10}`;
}

/**
 * Parses `/ESH7` (or `/ESH27`, `ESH7`). The one-digit year is resolved against `refYear`
 * (default: the current UTC year) as in yearOfDigits.
 */
export function parseFutureKey(key: string, refYear = new Date().getUTCFullYear()): FutureContract {
  const s = key.trim().toUpperCase();
  const m = (s.startsWith('/') ? s : `/${s}`).match(FUTURE_KEY_RE);
  if (!m) throw new ContractKeyError(`not a futures symbol: "${key}" (expected /ROOT + month code + year, e.g. /ESH7)`);
  return { root: m[1], month: MONTH_CODES.indexOf(m[2]) + 1, year: yearOfDigits(m[3], refYear) };
}

export function isFutureKey(key: string): boolean {
  return FUTURE_KEY_RE.test(key.trim());
}

/** Canonical `/ESH7` for any accepted spelling (`/ESH27`, `ESH7`). */
export function canonicalFutureKey(key: string, refYear?: number): string {
  return futureKey(parseFutureKey(key, refYear));
}

/** Formats a strike without trailing zeros (5750, 112.5), the way tastytrade symbols carry it. */
export function plainStrike(strike: number): string {
  if (!Number.isFinite(strike) || strike <= 0) throw new ContractKeyError(`invalid strike ${strike}: must be > 0`);
  const milli = Math.round(strike * 1000);
  const whole = Math.floor(milli / 1000);
  const frac = milli % 1000;
  return frac === 0 ? String(whole) : `${whole}.${String(frac).padStart(3, '0').replace(/0+$/, '')}`;
}

/**
 * `./ESH7 EW4G7 270226C5750`: './' + the underlying future, the option contract code (option
 * root + month code and one-digit year of the option's expiry), then yymmdd, right and strike.
 */
export function futureOptionKey(o: FutureOptionContract): string {
  const fut = futureKey(o.future).slice(1);
  const root = o.optionRoot.trim().toUpperCase();
  if (!/^[A-Z0-9]{1,6}$/.test(root)) throw new ContractKeyError(`invalid futures option root "${o.optionRoot}"`);
  if (o.right !== 'C' && o.right !== 'P') throw new ContractKeyError(`invalid option right "${String(o.right)}": C or P`);
  const iso = normaliseExpiry(o.expiry);
  const y = Number(iso.slice(0, 4));
  const m = Number(iso.slice(5, 7));
  const yymmdd = iso.slice(2, 4) + iso.slice(5, 7) + iso.slice(8, 10);
  return `./${fut} ${root}${monthCode(m)}${y % 10} ${yymmdd}${o.right}${plainStrike(o.strike)}`;
}

/** Parses `./ESH7 EW4G7 270226C5750`; the future's year is resolved against the option's expiry. */
export function parseFutureOptionKey(key: string): FutureOptionContract {
  const m = key.trim().toUpperCase().match(FOP_KEY_RE);
  if (!m) throw new ContractKeyError(`not a futures option symbol: "${key}" (expected ./ESH7 EW4G7 270226C5750)`);
  const expiry = normaliseExpiry(`${m[5]}${m[6]}${m[7]}`);
  const future = parseFutureKey(`/${m[1]}`, Number(expiry.slice(0, 4)));
  return { future, optionRoot: m[2], expiry, right: m[8] as OptionRight, strike: Number(m[9]) };
}

export function isFutureOptionKey(key: string): boolean {
  return FOP_KEY_RE.test(key.trim());
}

/** Canonical futures option key for any accepted spelling (extra spaces, a two-digit future year). */
export function canonicalFutureOptionKey(key: string): string {
  return futureOptionKey(parseFutureOptionKey(key));
}

/** The product of a future key (`/ESH7` → `/ES`), or null when `key` is not a future key. */
export function futureProductOf(key: string): string | null {
  return isFutureKey(key) ? `/${parseFutureKey(key).root}` : null;
}

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

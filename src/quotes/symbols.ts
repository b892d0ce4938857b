/**
 * Watchlist and quote symbols: one canonical spelling per instrument, the same at every broker
 * (interface.md): tickers for equities and indices (`SPY`, `SPX`), the Tastytrade form for
 * futures (`/ESH7`) and futures options (`./ESH7 EW4G7 270226C5750`), the 21-character OCC key
 * for equity and index options (`SPY   251219C00500000`; the compact `SPY251219C00500000` is
 * accepted). Pure.
 */
import { canonicalOcc, parseOcc, underlyingOfRoot } from '../core/contract.js';
import { ConfigError } from '../core/errors.js';

export type SymbolKind = 'equity' | 'index' | 'option' | 'future' | 'future_option';

export interface WatchSymbol {
  /** Canonical key: the `quotes.symbol` and the key of the stream's quote events. */
  symbol: string;
  kind: SymbolKind;
  /** The underlying of an option (`SPY` for an SPY option, `SPX` for SPXW); the symbol itself otherwise. */
  underlying: string;
}

/**
 * Cash-settled indices quoted as indices (Tastytrade `index=`, IBKR secType IND). A ticker not
 * listed here is asked as an equity; extend with QUOTE_INDEX_SYMBOLS.
 */
export const KNOWN_INDICES = new Set(['SPX', 'XSP', 'NDX', 'XND', 'RUT', 'MRUT', 'VIX', 'DJX', 'OEX', 'XEO']);

const TICKER_RE = /^[A-Z][A-Z0-9.]{0,9}(\/[A-Z])?$/;
const FUTURE_RE = /^\/[A-Z0-9]{1,4}[FGHJKMNQUVXZ]\d{1,2}$/;

/** Parses one symbol; throws ConfigError (one line, with the accepted forms) when it is none of them. */
export function parseSymbol(raw: string, indices: ReadonlySet<string> = KNOWN_INDICES): WatchSymbol {
  const s = raw.trim().toUpperCase().replace(/\s+/g, ' ');
  if (s.startsWith('./')) {
    if (!/^\.\/[A-Z0-9]+ [A-Z0-9]+ \d{6}[CP][\d.]+$/.test(s)) throw bad(raw);
    return { symbol: s, kind: 'future_option', underlying: s.slice(1, s.indexOf(' ')) };
  }
  if (s.startsWith('/')) {
    if (!FUTURE_RE.test(s)) throw bad(raw);
    return { symbol: s, kind: 'future', underlying: s };
  }
  if (/\d{6}[CP]\d{8}$/.test(s.replace(/ /g, ''))) {
    try {
      const key = canonicalOcc(raw.trim().toUpperCase().length === 21 ? raw.trim().toUpperCase() : s.replace(/ /g, ''));
      return { symbol: key, kind: 'option', underlying: underlyingOfRoot(parseOcc(key).root) };
    } catch {
      throw bad(raw);
    }
  }
  if (!TICKER_RE.test(s)) throw bad(raw);
  return { symbol: s, kind: indices.has(s) ? 'index' : 'equity', underlying: s };
}

function bad(raw: string): ConfigError {
  return new ConfigError(
    `"${raw}" is not a symbol: use a ticker (SPY, SPX), a future (/ESH7), a futures option (./ESH7 EW4G7 270226C5750) or an OCC option (SPY   251219C00500000 or SPY251219C00500000)`,
  );
}

/** WATCHLIST: comma-separated symbols (spaces inside an OCC key are kept); duplicates once. */
export function parseWatchlist(value: string | undefined, indices: ReadonlySet<string> = KNOWN_INDICES): WatchSymbol[] {
  const out = new Map<string, WatchSymbol>();
  for (const part of (value ?? '').split(',')) {
    if (part.trim() === '') continue;
    let w: WatchSymbol;
    try {
      w = parseSymbol(part, indices);
    } catch (err) {
      throw new ConfigError(`WATCHLIST: ${(err as Error).message}`);
    }
    out.set(w.symbol, w);
  }
  return [...out.values()];
}

/** QUOTE_INDEX_SYMBOLS extends the built-in index list. */
export function indexSymbols(env: Record<string, string | undefined>): Set<string> {
  const extra = (env.QUOTE_INDEX_SYMBOLS ?? '').split(',').map((x) => x.trim().toUpperCase()).filter(Boolean);
  return new Set([...KNOWN_INDICES, ...extra]);
}

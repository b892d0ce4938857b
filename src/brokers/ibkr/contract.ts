import { canonicalFutureKey, ContractKeyError, futureKey, futureOptionKey, isFutureKey, normaliseExpiry, occKey, parseFutureKey, underlyingOfRoot, type ContractKey, type FutureContract, type OptionRight } from '../../core/contract.js';

/** The parts of an IBKR option contract needed for its canonical key (both transports). */
export interface IbkrOptionContract {
  /** Underlying symbol (`undSym` / `contract.symbol`), e.g. SPX. */
  symbol: string;
  /** Expiry YYYYMMDD (`expiry` / `lastTradeDateOrContractMonth`). */
  expiry: string;
  /** 'C' | 'P' | 'CALL' | 'PUT' (any case). */
  right: string;
  strike: number;
  /** IBKR trading class: 'SPXW' for SPX weeklies, 'SPX' for AM-settled monthlies. */
  tradingClass?: string | null;
}

/**
 * IBKR contract → OCC key. The OCC root is the trading class when IBKR gives one (that is
 * how SPX weeklies become SPXW while the underlying stays SPX); otherwise the symbol.
 * Decision record: specs/ibkr.md "SPX vs SPXW".
 */
export function ibkrContractKey(c: IbkrOptionContract): { contractKey: ContractKey; underlying: string } {
  const right = normaliseRight(c.right);
  const root = (c.tradingClass && c.tradingClass.trim()) || impliedRoot(c.symbol, c.expiry);
  const contractKey = occKey({ root, expiry: c.expiry, right, strike: c.strike });
  return { contractKey, underlying: c.symbol.trim().toUpperCase() || underlyingOfRoot(root) };
}

export function normaliseRight(right: string): OptionRight {
  const r = right.trim().toUpperCase();
  if (r === 'C' || r === 'CALL') return 'C';
  if (r === 'P' || r === 'PUT') return 'P';
  throw new Error(`unknown option right "${right}"`);
}

/**
 * Index underlyings whose AM-settled monthly options expire on the third Friday under the
 * symbol's own root, while every other expiry trades under a weekly/PM root. Without a trading
 * class, an expiry that is not a third Friday can only be the weekly root. A third Friday stays
 * ambiguous (both series exist) and keeps the symbol. Decision record: specs/ibkr.md.
 */
const WEEKLY_ROOTS: Record<string, string> = { SPX: 'SPXW', NDX: 'NDXP', RUT: 'RUTW' };

function impliedRoot(symbol: string, expiry: string): string {
  const sym = symbol.trim().toUpperCase();
  const weekly = WEEKLY_ROOTS[sym];
  if (!weekly) return sym;
  const m = expiry.trim().match(/^(\d{4})-?(\d{2})-?(\d{2})$/);
  if (!m) return sym;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  const thirdFriday = d.getUTCDay() === 5 && d.getUTCDate() >= 15 && d.getUTCDate() <= 21;
  return thirdFriday ? sym : weekly;
}

// ---- futures (FUT) and futures options (FOP): keys as interface.md says (Tastytrade form) ----
//   FUT  localSymbol ESZ4 / symbol ES + contract month  →  /ESZ4
//   FOP  ES, 20270219, C, 5350, tradingClass EW3 (localSymbol "EW3G7 C5350"), on ESH7
//        →  ./ESH7 EW3G7 270219C5350
// Decision record: specs/decisions.md D66.

/** The parts of an IBKR future needed for its key (TWS Contract or Client Portal row). */
export interface IbkrFutureContract {
  /** Product symbol: ES. */
  symbol: string;
  /** TWS localSymbol (ESZ4): wins when it parses. */
  localSymbol?: string | null;
  /** YYYYMM (the contract month) or YYYYMMDD (the last trading day, taken as in the contract month). */
  expiry?: string | null;
}

/** IBKR future → `/ESZ4`. Throws ContractKeyError when neither a local symbol nor an expiry gives the month. */
export function ibkrFutureKey(c: IbkrFutureContract): string {
  const local = (c.localSymbol ?? '').trim().toUpperCase();
  if (local && isFutureKey(`/${local}`)) {
    // The decade of a one-digit year comes from the expiry when known.
    const y = (c.expiry ?? '').match(/^(\d{4})/);
    return canonicalFutureKey(`/${local}`, y ? Number(y[1]) : undefined);
  }
  const m = (c.expiry ?? '').trim().match(/^(\d{4})(\d{2})(\d{2})?$/);
  const root = c.symbol.trim().toUpperCase();
  if (!m || !root) throw new ContractKeyError(`future ${c.symbol} ${c.expiry ?? ''}: no local symbol and no contract month`);
  return futureKey({ root, month: Number(m[2]), year: Number(m[1]) });
}

/**
 * Products whose options sit on the quarterly (H, M, U, Z) future at or after the option's
 * expiry month (CME equity-index futures). Other products need the underlying future given.
 */
export const QUARTERLY_OPTION_PRODUCTS = new Set(['ES', 'MES', 'NQ', 'MNQ', 'RTY', 'M2K', 'YM', 'MYM', 'EMD']);

/** The parts of an IBKR futures option needed for its key. */
export interface IbkrFutureOptionContract {
  /** Product symbol: ES. */
  symbol: string;
  /** YYYYMMDD of the option's last trading day. */
  expiry: string;
  right: string;
  strike: number;
  /** Option class: EW3 (the Tastytrade option-root-symbol). */
  tradingClass?: string | null;
  /** TWS localSymbol "EW3G7 C5350": its first word gives the class when tradingClass is missing. */
  localSymbol?: string | null;
  /** The underlying future's local symbol (TWS contract details `underSymbol` ESH7), when known. */
  underlyingLocalSymbol?: string | null;
}

/** IBKR FOP → `./ESH7 EW3G7 270219C5350` and its underlying `/ESH7`. */
export function ibkrFutureOptionKey(c: IbkrFutureOptionContract): { contractKey: string; underlying: string } {
  const right = normaliseRight(c.right);
  const symbol = c.symbol.trim().toUpperCase();
  const expiry = normaliseExpiry(c.expiry);
  const localClass = (c.localSymbol ?? '').trim().toUpperCase().split(/\s+/)[0]?.replace(/[FGHJKMNQUVXZ]\d$/, '') ?? '';
  const optionRoot = (c.tradingClass ?? '').trim().toUpperCase() || localClass || symbol;
  let future: FutureContract;
  if (c.underlyingLocalSymbol && c.underlyingLocalSymbol.trim()) {
    future = parseFutureKey(c.underlyingLocalSymbol, Number(expiry.slice(0, 4)));
  } else if (QUARTERLY_OPTION_PRODUCTS.has(symbol)) {
    let year = Number(expiry.slice(0, 4));
    let month = Number(expiry.slice(5, 7));
    while (month % 3 !== 0) month++;
    if (month > 12) {
      month -= 12;
      year++;
    }
    future = { root: symbol, month, year };
  } else {
    throw new ContractKeyError(`futures option on ${symbol} ${c.expiry}: the underlying future is not known`);
  }
  const contractKey = futureOptionKey({ future, optionRoot, expiry, right, strike: c.strike });
  return { contractKey, underlying: futureKey(future) };
}

/** IBKR exchange of a futures product (market data on futures needs one; SMART does not route them). */
const FUTURES_EXCHANGES: Record<string, string> = { ZN: 'CBOT', ZB: 'CBOT', ZF: 'CBOT', ZT: 'CBOT', YM: 'CBOT', MYM: 'CBOT', ZC: 'CBOT', ZS: 'CBOT', ZW: 'CBOT', CL: 'NYMEX', NG: 'NYMEX', GC: 'COMEX', SI: 'COMEX', HG: 'COMEX' };

export function futuresExchangeOf(symbol: string): string {
  return FUTURES_EXCHANGES[symbol.trim().toUpperCase()] ?? 'CME';
}

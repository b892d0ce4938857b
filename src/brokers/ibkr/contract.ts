import { occKey, underlyingOfRoot, type ContractKey, type OptionRight } from '../../core/contract.js';

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

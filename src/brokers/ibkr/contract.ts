import { occKey, underlyingOfRoot, type OptionRight } from '../../core/contract.js';

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
export function ibkrContractKey(c: IbkrOptionContract): { contractKey: string; underlying: string } {
  const right = normaliseRight(c.right);
  const root = (c.tradingClass && c.tradingClass.trim()) || c.symbol;
  const contractKey = occKey({ root, expiry: c.expiry, right, strike: c.strike });
  return { contractKey, underlying: c.symbol.trim().toUpperCase() || underlyingOfRoot(root) };
}

export function normaliseRight(right: string): OptionRight {
  const r = right.trim().toUpperCase();
  if (r === 'C' || r === 'CALL') return 'C';
  if (r === 'P' || r === 'PUT') return 'P';
  throw new Error(`unknown option right "${right}"`);
}

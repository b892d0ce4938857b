/**
 * The simulated Tastytrade book: two accounts holding contracts of the shared simbook (the
 * SPY 500 call at both, long and short), as REST position items (kebab-case, like the API).
 */
import { defaultContracts, simContractKey, thirdFriday, type SimContract } from '../../simbook.js';
import type { SimFuturesBook } from '../../simfutures.js';
import { futureOptionStreamerSymbol, futureStreamerSymbol, occToStreamer } from '../symbols.js';

export interface SimHolding {
  /** OCC symbol (options) or ticker (equities). */
  symbol: string;
  instrumentType: 'Equity Option' | 'Equity' | 'Future' | 'Future Option';
  underlying: string;
  /** Signed: negative = short. Sent unsigned with quantity-direction, as Tastytrade does. */
  quantity: number;
  multiplier: number;
  averageOpenPrice: number;
}

export const SIM_ACCOUNTS = ['5WT00001', '5WT00002'];

export function optionHolding(c: SimContract, quantity: number, averageOpenPrice = 2.5): SimHolding {
  return { symbol: simContractKey(c), instrumentType: 'Equity Option', underlying: c.underlying, quantity, multiplier: c.multiplier, averageOpenPrice };
}

/** Default holdings per account. contracts[4] (QQQ put) is in the market but held by nobody. */
export function defaultBook(contracts: SimContract[] = defaultContracts()): Map<string, SimHolding[]> {
  const [spyCall, spyPut, spxPut, aaplCall] = contracts;
  return new Map([
    [SIM_ACCOUNTS[0], [
      optionHolding(spyCall, 10, 24.1),
      optionHolding(spyPut, -5, 3.2),
      optionHolding(spxPut, 2, 41.5),
      { symbol: 'SPY', instrumentType: 'Equity', underlying: 'SPY', quantity: 100, multiplier: 1, averageOpenPrice: 515 },
    ]],
    [SIM_ACCOUNTS[1], [optionHolding(spyCall, -3, 23.9), optionHolding(aaplCall, 4, 5.1)]],
  ]);
}

/**
 * The futures book as Tastytrade positions: the future (`/ESH7`, underlying-symbol `/ES`) and its
 * options (`./ESH7 EW3G7 …`, underlying-symbol the future). Position multipliers are $/point (50),
 * as a live account reports them; the FOP *instrument* would say 1.0.
 */
export function futuresHoldings(fb: SimFuturesBook): SimHolding[] {
  const q = (k: string) => fb.quantities.get(k) ?? 0;
  const px = (k: string) => fb.avgPrices.get(k) ?? 0;
  return [
    { symbol: fb.future.key, instrumentType: 'Future', underlying: `/${fb.future.contract.root}`, quantity: q(fb.future.key), multiplier: fb.future.multiplier, averageOpenPrice: px(fb.future.key) },
    ...fb.options.map((o): SimHolding => ({ symbol: o.key, instrumentType: 'Future Option', underlying: o.future.key, quantity: q(o.key), multiplier: o.multiplier, averageOpenPrice: px(o.key) })),
  ];
}

/** Account number i (0-based) of a simulated big book: 5WT00001, 5WT00002, ... */
export const simAccount = (i: number) => `5WT${String(i + 1).padStart(5, '0')}`;

/**
 * A big book for scale runs: `n` distinct SPY options (calls and puts, four monthly expiries,
 * strikes from 300 in steps of 0.5), dealt round-robin over `accounts` accounts.
 */
export function bigBook(n: number, accounts: number, now = Date.now()): { contracts: SimContract[]; book: Map<string, SimHolding[]> } {
  const expiries = [1, 2, 3, 4].map((m) => thirdFriday(now, m));
  const contracts: SimContract[] = Array.from({ length: n }, (_, i) => ({
    underlying: 'SPY', root: 'SPY', expiry: expiries[Math.floor(i / 2) % 4], right: i % 2 ? 'P' : 'C', strike: 300 + Math.floor(i / 8) * 0.5, multiplier: 100,
  }));
  const book = new Map<string, SimHolding[]>();
  for (let a = 0; a < Math.max(1, accounts); a++) book.set(simAccount(a), []);
  contracts.forEach((c, i) => book.get(simAccount(i % Math.max(1, accounts)))!.push(optionHolding(c, i % 3 === 0 ? -2 : 1)));
  return { contracts, book };
}

/** One position item as GET /accounts/{a}/positions returns it. */
export function positionItem(account: string, h: SimHolding, now = Date.now()): Record<string, unknown> {
  return {
    'account-number': account,
    symbol: h.symbol,
    'instrument-type': h.instrumentType,
    'underlying-symbol': h.underlying,
    quantity: Math.abs(h.quantity),
    'quantity-direction': h.quantity < 0 ? 'Short' : h.quantity > 0 ? 'Long' : 'Zero',
    'close-price': '0.0',
    'average-open-price': h.averageOpenPrice.toFixed(2),
    'average-yearly-market-close-price': h.averageOpenPrice.toFixed(2),
    'average-daily-market-close-price': h.averageOpenPrice.toFixed(2),
    multiplier: h.multiplier,
    'cost-effect': h.quantity < 0 ? 'Credit' : 'Debit',
    'is-suppressed': false,
    'is-frozen': false,
    'restricted-quantity': 0,
    'realized-day-gain': '0.0',
    'realized-today': '0.0',
    'created-at': new Date(now - 86_400_000).toISOString(),
    'updated-at': new Date(now).toISOString(),
  };
}

/** The DXLink symbol the real API would stream for a holding. */
export function streamerSymbolOfHolding(h: SimHolding): string {
  if (h.instrumentType === 'Future') return futureStreamerSymbol(h.symbol, 'XCME');
  if (h.instrumentType === 'Future Option') return futureOptionStreamerSymbol(h.symbol, 'XCME');
  return h.instrumentType === 'Equity Option' ? occToStreamer(h.symbol) : h.symbol;
}

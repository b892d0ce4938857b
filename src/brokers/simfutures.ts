/**
 * The simulators' futures book (issue 17 item 4), shared by the Tastytrade and IBKR simulators
 * so the same contracts appear at both and their keys can be compared: one E-mini S&P future
 * (multiplier 50, the next quarterly month at least a month out) and two options on it (class
 * EW3, expiring the third Friday of next month, on the quarterly future at or after it), each broker writing them in
 * its own wire form. Greeks: Black-76 with r = 0 (the Black-Scholes of simbook on the futures
 * price with a zero rate), so the numbers look real.
 */
import { futureKey, futureOptionKey, MONTH_CODES, type FutureContract, type OptionRight } from '../core/contract.js';
import { blackScholes, thirdFriday, type SimContract, type SimGreeks } from './simbook.js';

export interface SimFuture {
  /** `/ESH7`. */
  key: string;
  contract: FutureContract;
  /** Last trade day YYYY-MM-DD (third Friday of the contract month). */
  expiry: string;
  multiplier: number;
  /** Tastytrade / DXLink exchange code. */
  exchangeCode: string;
  /** IBKR exchange. */
  exchange: string;
}

export interface SimFutureOption {
  /** `./ESH7 EW3G7 270219C5350`. */
  key: string;
  future: SimFuture;
  optionRoot: string;
  expiry: string;
  right: OptionRight;
  strike: number;
  multiplier: number;
}

export interface SimFuturesBook {
  future: SimFuture;
  options: SimFutureOption[];
  /** Held quantities by key (the future and both options), the same at every simulated broker. */
  quantities: Map<string, number>;
  /** Average open prices by key (per unit, before the multiplier). */
  avgPrices: Map<string, number>;
}

export const ES_PRICE = 5250;

/** The futures book for `now`: ES of the first quarterly month ≥ 2 months out, two EW3 options. */
export function futuresBook(now: number): SimFuturesBook {
  // The options expire the third Friday one month ahead, on the quarterly future of that month or the next (CME equity index).
  const optExpiry = thirdFriday(now, 1);
  const [oy, om] = optExpiry.split('-').map(Number);
  let fy = oy;
  let fm = om;
  while (fm % 3 !== 0) fm++;
  if (fm > 12) {
    fm -= 12;
    fy += 1;
  }
  const futExpiry = thirdFriday(Date.UTC(fy, fm - 1, 1), 0);
  const contract: FutureContract = { root: 'ES', month: fm, year: fy };
  const future: SimFuture = { key: futureKey(contract), contract, expiry: futExpiry, multiplier: 50, exchangeCode: 'XCME', exchange: 'CME' };
  const atm = Math.round(ES_PRICE / 50) * 50;
  const mk = (right: OptionRight, strike: number): SimFutureOption => ({
    key: futureOptionKey({ future: contract, optionRoot: 'EW3', expiry: optExpiry, right, strike }),
    future, optionRoot: 'EW3', expiry: optExpiry, right, strike, multiplier: 50,
  });
  const options = [mk('C', atm + 100), mk('P', atm - 150)];
  const quantities = new Map<string, number>([[future.key, 1], [options[0].key, -2], [options[1].key, 3]]);
  const avgPrices = new Map<string, number>([[future.key, ES_PRICE - 12.5], [options[0].key, 61.25], [options[1].key, 48.5]]);
  return { future, options, quantities, avgPrices };
}

/** The month code + one-digit year of a date (`2027-02-19` → `G7`). */
export function monthYearCode(isoDate: string): string {
  const [y, m] = isoDate.split('-').map(Number);
  return `${MONTH_CODES[m - 1]}${y % 10}`;
}

/** Black-76 (r = 0) Greeks of a futures option at futures price `f`. */
export function futureOptionGreeks(o: SimFutureOption, f: number, iv: number, now: number): SimGreeks {
  const c: SimContract = { underlying: o.future.key, root: o.optionRoot, expiry: o.expiry, right: o.right, strike: o.strike, multiplier: o.multiplier };
  return blackScholes(f, c, iv, now, 0);
}

/**
 * The simulated gateway's accounts and positions, built from the shared sim book so the demo
 * holds the same contracts (and the SPY 500 call) at every simulated broker. Conids are stable:
 * real ones for the underlyings, 800000001 + index for the options.
 */
import { defaultContracts, simContractKey, type SimContract } from '../../../simbook.js';

export const UNDERLYING_CONIDS: Record<string, number> = { SPY: 756733, SPX: 416904, AAPL: 265598, QQQ: 320227571, XSP: 13455763 };
/** Underlyings that are indices (secType IND at /iserver/secdef/search); the rest are stocks. */
export const INDEX_UNDERLYINGS = new Set(['SPX', 'XSP']);

export interface SimHolding {
  account: string;
  index: number;
  quantity: number;
}

export interface SimBook {
  contracts: SimContract[];
  accounts: string[];
  holdings: SimHolding[];
  optionConid(index: number): number;
  indexOfConid(conid: number): number;
  underlyingOfConid(conid: number): string | null;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

/** Two accounts; both hold the SPY 500 call (index 0) so one greeks update lands in two rows. */
export function defaultBook(now: number, contracts = defaultContracts(now)): SimBook {
  const accounts = ['DU1234567', 'DU7654321'];
  const holdings: SimHolding[] = [
    { account: accounts[0], index: 0, quantity: 2 },
    { account: accounts[0], index: 1, quantity: -1 },
    { account: accounts[0], index: 2, quantity: -3 },
    { account: accounts[1], index: 0, quantity: 1 },
    { account: accounts[1], index: 3, quantity: 5 },
    { account: accounts[1], index: 4, quantity: -2 },
  ].filter((h) => h.index < contracts.length);
  return {
    contracts,
    accounts,
    holdings,
    optionConid: (i) => 800_000_001 + i,
    indexOfConid: (conid) => {
      const i = conid - 800_000_001;
      return i >= 0 && i < contracts.length ? i : -1;
    },
    underlyingOfConid: (conid) => Object.keys(UNDERLYING_CONIDS).find((s) => UNDERLYING_CONIDS[s] === conid) ?? null,
  };
}

/** A big book: every contract held once, dealt round-robin over `accounts` accounts (DU2000001, ...). */
export function spreadBook(contracts: SimContract[], accounts: number): SimBook {
  const base = defaultBook(0, contracts);
  const ids = Array.from({ length: Math.max(1, accounts) }, (_, i) => `DU${2_000_001 + i}`);
  return { ...base, accounts: ids, holdings: contracts.map((_, index) => ({ account: ids[index % ids.length], index, quantity: index % 3 === 0 ? -1 : 2 })) };
}

/** "SPX    DEC2026 5000 P [SPXW  261218P05000000 100]", as the gateway writes option descriptions. */
export function contractDesc(c: SimContract): string {
  const [y, m] = c.expiry.split('-');
  return `${c.underlying.padEnd(7)}${MONTHS[Number(m) - 1]}${y} ${c.strike} ${c.right} [${simContractKey(c)} ${c.multiplier}]`;
}

/** One row of /portfolio/{acct}/positions/{page}, with the fields a real gateway sends. */
export function positionRow(book: SimBook, h: SimHolding, price: number): Record<string, unknown> {
  const c = book.contracts[h.index];
  return {
    acctId: h.account,
    conid: book.optionConid(h.index),
    contractDesc: contractDesc(c),
    position: h.quantity,
    mktPrice: price,
    mktValue: price * c.multiplier * h.quantity,
    currency: 'USD',
    avgCost: Math.round(price * c.multiplier * 100) / 100,
    avgPrice: Math.round(price * 10000) / 10000,
    realizedPnl: 0,
    unrealizedPnl: 0,
    assetClass: 'OPT',
    expiry: c.expiry.replace(/-/g, ''),
    putOrCall: c.right,
    strike: String(c.strike),
    multiplier: c.multiplier,
    undConid: UNDERLYING_CONIDS[c.underlying] ?? 0,
    undSym: c.underlying,
    ticker: c.underlying,
    listingExchange: 'SMART',
    isUS: true,
  };
}

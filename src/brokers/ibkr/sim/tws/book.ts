/**
 * What the TWS simulator holds: the shared default book (src/brokers/simbook.ts) as IB
 * contracts, with conIds, OCC localSymbols and trading classes, spread over two accounts.
 * The SPY 500 call is held in both, as at every simulated broker.
 */
import { simContractKey, type SimContract } from '../../../simbook.js';
import type { SimFutureOption, SimFuturesBook } from '../../../simfutures.js';
import type { PositionContract } from './messages.js';

export interface TwsSimContract {
  index: number;
  sim: SimContract;
  contractKey: string;
  ib: PositionContract;
  /** A futures option of the futures book (Greeks from Black-76 on the future, not from `sim`). */
  fop?: SimFutureOption;
}

export interface TwsSimHolding {
  account: string;
  contract: PositionContract;
  quantity: number;
  avgCost: number;
}

export function toTwsContracts(contracts: SimContract[]): TwsSimContract[] {
  return contracts.map((sim, index) => {
    const contractKey = simContractKey(sim);
    return {
      index, sim, contractKey,
      ib: {
        conId: 700_000 + index,
        symbol: sim.underlying,
        secType: 'OPT',
        expiry: sim.expiry.replace(/-/g, ''),
        strike: sim.strike,
        right: sim.right,
        multiplier: sim.multiplier,
        // Real positions come with an empty exchange; the client must fill one in for market data.
        exchange: '',
        currency: 'USD',
        localSymbol: contractKey,
        tradingClass: sim.root,
      },
    };
  });
}

const QUANTITIES = [2, -3, -1, 5, 4, -2, 1];

export function defaultHoldings(contracts: TwsSimContract[], accounts: string[]): TwsSimHolding[] {
  const [first, second] = accounts;
  const holdings: TwsSimHolding[] = contracts.map((c, i) => ({
    account: first, contract: c.ib, quantity: QUANTITIES[i % QUANTITIES.length], avgCost: 100 * (1 + i) + 0.5,
  }));
  if (second && contracts[0]) {
    holdings.push({ account: second, contract: contracts[0].ib, quantity: 1, avgCost: 2150.25 });
    holdings.push({
      account: second, quantity: 100, avgCost: 515.1,
      contract: { conId: 756733, symbol: 'SPY', secType: 'STK', expiry: '', strike: 0, right: '', multiplier: '', exchange: 'ARCA', currency: 'USD', localSymbol: 'SPY', tradingClass: 'SPY' },
    });
  }
  return holdings;
}

/** `EW3G7 C5350`: TWS's local symbol of a CME futures option (class + month code + year, right + strike). */
export function fopLocalSymbol(o: SimFutureOption): string {
  const [y, m] = o.expiry.split('-').map(Number);
  return `${o.optionRoot}${'FGHJKMNQUVXZ'[m - 1]}${y % 10} ${o.right}${o.strike}`;
}

/**
 * The futures book as TWS contracts and positions (first account): the future (FUT, localSymbol
 * ESH7, multiplier "50") and its options (FOP, tradingClass EW3, localSymbol "EW3G7 C5350").
 * Positions come with an empty exchange, as TWS sends them. `first` is the next free index.
 */
export function futuresTws(fb: SimFuturesBook, first: number, account: string): { contracts: TwsSimContract[]; holdings: TwsSimHolding[] } {
  const f = fb.future;
  const fut: PositionContract = {
    conId: 495_512_557, symbol: f.contract.root, secType: 'FUT', expiry: f.expiry.replace(/-/g, ''), strike: 0, right: '', multiplier: f.multiplier,
    exchange: '', currency: 'USD', localSymbol: f.key.slice(1), tradingClass: f.contract.root,
  };
  const contracts: TwsSimContract[] = fb.options.map((o, i) => ({
    index: first + i, contractKey: o.key, fop: o,
    sim: { underlying: f.key, root: o.optionRoot, expiry: o.expiry, right: o.right, strike: o.strike, multiplier: o.multiplier },
    ib: {
      conId: 720_000 + i, symbol: f.contract.root, secType: 'FOP', expiry: o.expiry.replace(/-/g, ''), strike: o.strike, right: o.right,
      multiplier: o.multiplier, exchange: '', currency: 'USD', localSymbol: fopLocalSymbol(o), tradingClass: o.optionRoot,
    },
  }));
  const q = (k: string) => fb.quantities.get(k) ?? 0;
  const cost = (k: string, mult: number) => (fb.avgPrices.get(k) ?? 0) * mult;
  const holdings: TwsSimHolding[] = [
    { account, contract: fut, quantity: q(f.key), avgCost: cost(f.key, f.multiplier) },
    ...contracts.map((c) => ({ account, contract: c.ib, quantity: q(c.contractKey), avgCost: cost(c.contractKey, c.fop!.multiplier) })),
  ];
  return { contracts, holdings };
}

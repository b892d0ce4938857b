/**
 * What the TWS simulator holds: the shared default book (src/brokers/simbook.ts) as IB
 * contracts, with conIds, OCC localSymbols and trading classes, spread over two accounts.
 * The SPY 500 call is held in both, as at every simulated broker.
 */
import { simContractKey, type SimContract } from '../../../simbook.js';
import type { PositionContract } from './messages.js';

export interface TwsSimContract {
  index: number;
  sim: SimContract;
  contractKey: string;
  ib: PositionContract;
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

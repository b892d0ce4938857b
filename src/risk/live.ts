/** The processor's latest state as risk-engine input (serve, ingest, demo). */
import type { Clock } from '../core/clock.js';
import type { Processor } from '../core/processor.js';
import type { LiveState } from './load.js';
import type { ContractMarket } from './types.js';

/** One new latest snapshot as the processor announces it (onLatest): what notify() takes. */
export type LiveSnapshot = Omit<ContractMarket, 'last'> & { broker: string; account: string; contractKey: string };

export const contractMarketOf = (s: LiveSnapshot): ContractMarket => ({
  bid: s.bid, ask: s.ask, mark: s.mark, underlyingPrice: s.underlyingPrice, iv: s.iv, delta: s.delta, gamma: s.gamma, theta: s.theta, vega: s.vega, eventTs: s.eventTs,
});

export function processorLiveState(p: Pick<Processor, 'heldPositions' | 'latestGreeks' | 'quotePrices'>, clock: Clock): LiveState {
  return {
    positions: () => p.heldPositions().map((pos) => ({ ...pos, updatedAt: clock.now() })),
    latest: () => p.latestGreeks().map((s) => ({ broker: s.broker, account: s.account, contractKey: s.contractKey, market: contractMarketOf(s) })),
    prices: () => p.quotePrices(),
  };
}

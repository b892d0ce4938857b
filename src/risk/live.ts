/** The processor's latest state as risk-engine input (serve, ingest, demo). */
import type { Clock } from '../core/clock.js';
import type { Processor } from '../core/processor.js';
import type { LiveState } from './load.js';
import type { ContractMarket } from './types.js';

/** One new latest snapshot as the processor announces it (onLatest): what notify() takes. */
export interface LiveSnapshot {
  broker: string;
  account: string;
  contractKey: string;
  bid: number | null;
  ask: number | null;
  mark: number | null;
  underlyingPrice: number | null;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  eventTs: number;
}

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

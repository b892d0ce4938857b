/** The processor's latest state as risk-engine input (serve, ingest, demo). */
import type { Clock } from '../core/clock.js';
import type { Processor } from '../core/processor.js';
import type { LiveState } from './load.js';

export function processorLiveState(p: Pick<Processor, 'heldPositions' | 'latestGreeks' | 'quotePrices'>, clock: Clock): LiveState {
  return {
    positions: () => p.heldPositions().map((pos) => ({ ...pos, updatedAt: clock.now() })),
    latest: () => p.latestGreeks().map((s) => ({
      broker: s.broker, account: s.account, contractKey: s.contractKey,
      market: { bid: s.bid, ask: s.ask, mark: s.mark, underlyingPrice: s.underlyingPrice, iv: s.iv, delta: s.delta, gamma: s.gamma, theta: s.theta, vega: s.vega, eventTs: s.eventTs },
    })),
    prices: () => p.quotePrices(),
  };
}

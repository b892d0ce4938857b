/**
 * Canonical events from TWS ticks (pure). The stream decides *whether* to emit; these decide *what*.
 */
import type { GreeksEvent, QuoteEvent } from '../../../core/types.js';
import { BROKER } from './positions.js';
import type { Stamp, Subscription } from './subscriptions.js';
import { isModelRank, type OptionComputation } from './ticks.js';

export function greeksEvent(sub: Subscription, c: OptionComputation, rank: number, stamp: Stamp, receivedAt: number): GreeksEvent {
  return {
    kind: 'greeks',
    broker: BROKER,
    // One subscription per contract serves every account holding it.
    account: undefined,
    contractKey: sub.contractKey,
    underlying: sub.underlying,
    eventTs: stamp.eventTs,
    seq: stamp.seq,
    receivedAt,
    // IB's implied vol is already a fraction (0.25 = 25 %); vega per vol point, theta per day.
    iv: c.iv,
    delta: c.delta,
    gamma: c.gamma,
    theta: c.theta,
    vega: c.vega,
    rho: null,
    // optPrice of a bid/ask/last computation is just that price; only the model's is a mark.
    ...(isModelRank(rank) && c.optPrice !== null ? { mark: c.optPrice } : {}),
    ...(c.undPrice !== null ? { underlyingPrice: c.undPrice } : {}),
  };
}

export function quoteEvent(sub: Subscription, receivedAt: number): QuoteEvent {
  return {
    kind: 'quote',
    broker: BROKER,
    key: sub.contractKey,
    eventTs: receivedAt,
    receivedAt,
    bid: sub.quote.bid,
    ask: sub.quote.ask,
    last: sub.quote.last,
  };
}

/** Row builders for storage tests: a valid snapshot / trade / position with overridable fields. */
import type { GreekSnapshot, Position, TradeRow } from '../../src/core/types.js';

export const DAY = 86_400_000;
/** A fixed instant, so partition names in assertions are stable: 2025-01-02T15:00:00Z. */
export const T0 = Date.UTC(2025, 0, 2, 15, 0, 0);

export function snapshot(over: Partial<GreekSnapshot> = {}): GreekSnapshot {
  return {
    broker: 'sim', account: 'ACC1', contractKey: 'SPY   251219C00500000', underlying: 'SPY',
    eventTs: T0, seq: 0, receivedAt: T0 + 5, quantity: -2, multiplier: 100,
    bid: 4.1, ask: 4.3, mark: 4.2, underlyingPrice: 598.5,
    iv: 0.18, delta: 0.52, gamma: 0.011, theta: -0.21, vega: 0.33, rho: 0.05,
    ...over,
  };
}

/** n snapshots of distinct contracts at consecutive milliseconds. */
export function snapshots(n: number, over: Partial<GreekSnapshot> = {}): GreekSnapshot[] {
  return Array.from({ length: n }, (_, i) =>
    snapshot({ contractKey: `SPY   251219C${String(500000 + i).padStart(8, '0')}`, eventTs: T0 + i, ...over }),
  );
}

export function trade(over: Partial<TradeRow> = {}): TradeRow {
  return {
    broker: 'sim', account: 'ACC1', tradeId: 'T-1', contractKey: 'SPY   251219C00500000', side: 'sell',
    quantity: 2, price: 4.2, executedAt: T0, source: 'paper', ...over,
  };
}

export function position(over: Partial<Position> = {}): Position {
  return {
    broker: 'sim', account: 'ACC1', contractKey: 'SPY   251219C00500000', underlying: 'SPY',
    quantity: -2, multiplier: 100, avgPrice: 4.5, assetClass: 'option', ...over,
  };
}

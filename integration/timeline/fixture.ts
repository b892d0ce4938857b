/**
 * A hand-made book for the timeline tests. Times are seconds after T0; the expected numbers in
 * the tests were worked out by hand from this table (size = quantity × multiplier):
 *
 *   pos  broker account contract               size  snapshots (s: delta gamma theta vega upx)
 *   A    tasty  ACC1    SPY 500C (qty 2)         200  10: .5 .02 -.1 .3 500
 *                                                     70 seq0: .55 ..., 70 seq1: .6 .03 -.2 .4 502 (seq1 wins)
 *                                                     300: .9 (after the range: never counts)
 *   C    tasty  ACC1    SPY 480P (qty 1)         100  60 (exactly on a bucket edge): -.2 .015 -.04 .1 501
 *   B    ibkr   U1      SPY 450P (qty -1)       -100  30: -.3 .01 -.05 .2 500
 *   D    ibkr   U1      QQQ 400C (qty 5)         500  100: .1 .002 -.01 .05 (no underlying price)
 *   F    tasty  ACC2    QQQ 410C (qty 3)         300  -60 (before the range): .4 .01 -.03 .2 400
 */
import type { GreekSnapshot } from '../../src/core/types.js';

export const T0 = Date.UTC(2025, 0, 2, 15, 0, 0);
const at = (s: number) => T0 + s * 1000;

type G = [delta: number, gamma: number, theta: number, vega: number, upx: number | null];

function snap(broker: string, account: string, contractKey: string, underlying: string, qty: number, s: number, g: G, seq = 0): GreekSnapshot {
  const [delta, gamma, theta, vega, underlyingPrice] = g;
  return {
    broker, account, contractKey, underlying, eventTs: at(s), seq, receivedAt: at(s) + 5, quantity: qty, multiplier: 100,
    bid: null, ask: null, mark: null, underlyingPrice, iv: 0.2, delta, gamma, theta, vega, rho: 0.01,
  };
}

const SPY500C = 'SPY   251219C00500000';
const SPY480P = 'SPY   251219P00480000';
const SPY450P = 'SPY   251219P00450000';
const QQQ400C = 'QQQ   251219C00400000';
const QQQ410C = 'QQQ   251219C00410000';

export const FIXTURE: GreekSnapshot[] = [
  snap('tasty', 'ACC1', SPY500C, 'SPY', 2, 10, [0.5, 0.02, -0.1, 0.3, 500]),
  snap('tasty', 'ACC1', SPY500C, 'SPY', 2, 70, [0.55, 0.025, -0.15, 0.35, 501]),
  snap('tasty', 'ACC1', SPY500C, 'SPY', 2, 70, [0.6, 0.03, -0.2, 0.4, 502], 1),
  snap('tasty', 'ACC1', SPY500C, 'SPY', 2, 300, [0.9, 0.01, -0.3, 0.2, 510]),
  snap('tasty', 'ACC1', SPY480P, 'SPY', 1, 60, [-0.2, 0.015, -0.04, 0.1, 501]),
  snap('ibkr', 'U1', SPY450P, 'SPY', -1, 30, [-0.3, 0.01, -0.05, 0.2, 500]),
  snap('ibkr', 'U1', QQQ400C, 'QQQ', 5, 100, [0.1, 0.002, -0.01, 0.05, null]),
  snap('tasty', 'ACC2', QQQ410C, 'QQQ', 3, -60, [0.4, 0.01, -0.03, 0.2, 400]),
];

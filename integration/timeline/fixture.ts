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
import type { GreekSnapshot, Position } from '../../src/core/types.js';

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

/**
 * The same book with marks and average prices, for the bwd / P&L columns (bwdPnl.test.ts):
 *
 *   pos  marks (s: mark)                         avg_price  size
 *   A    10: 6.0   70 seq0: 6.5, seq1: 7.0 (wins)   5.0       200
 *        300: 12 (after the range)
 *   C    60: no mark, bid 3.0 / ask 3.4 → mid 3.2   3.0       100
 *   B    30: 2.5                                  2.0      -100
 *   D    100: 1.1                                 unknown   500
 *   F    -60: 5.0                                 4.0       300
 * The latest SPY underlying price (benchmark) is 510 (A at 300); the latest QQQ one 400 (F).
 */
const MARKS = new Map<string, { mark: number | null; bid?: number; ask?: number }>([
  [`${SPY500C}@10`, { mark: 6 }], [`${SPY500C}@70/0`, { mark: 6.5 }], [`${SPY500C}@70/1`, { mark: 7 }], [`${SPY500C}@300`, { mark: 12 }],
  [`${SPY480P}@60`, { mark: null, bid: 3, ask: 3.4 }],
  [`${SPY450P}@30`, { mark: 2.5 }],
  [`${QQQ400C}@100`, { mark: 1.1 }],
  [`${QQQ410C}@-60`, { mark: 5 }],
]);

export const FIXTURE_WITH_MARKS: GreekSnapshot[] = FIXTURE.map((s) => {
  const sec = (s.eventTs - T0) / 1000;
  const m = MARKS.get(`${s.contractKey}@${sec}/${s.seq}`) ?? MARKS.get(`${s.contractKey}@${sec}`);
  if (!m) throw new Error(`fixture: no mark for ${s.contractKey} at ${sec}`);
  return { ...s, mark: m.mark, bid: m.bid ?? null, ask: m.ask ?? null };
});

const pos = (broker: string, account: string, contractKey: string, underlying: string, quantity: number, avgPrice: number | null): Position =>
  ({ broker, account, contractKey, underlying, quantity, multiplier: 100, avgPrice, assetClass: 'option' });

/** Positions per (broker, account), as replacePositions takes them. */
export const FIXTURE_POSITIONS: [string, string, Position[]][] = [
  ['tasty', 'ACC1', [pos('tasty', 'ACC1', SPY500C, 'SPY', 2, 5), pos('tasty', 'ACC1', SPY480P, 'SPY', 1, 3)]],
  ['ibkr', 'U1', [pos('ibkr', 'U1', SPY450P, 'SPY', -1, 2), pos('ibkr', 'U1', QQQ400C, 'QQQ', 5, null)]],
  ['tasty', 'ACC2', [pos('tasty', 'ACC2', QQQ410C, 'QQQ', 3, 4)]],
];

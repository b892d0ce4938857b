import { describe, expect, it } from 'vitest';
import { greeksViewTable, GREEKS_VIEW_WIDTH } from '../../src/cli/greeksView.js';
import type { LatestGreeks } from '../../src/core/processor.js';

const NOW = Date.parse('2026-11-20T15:00:00Z');
const row = (over: Partial<LatestGreeks>): LatestGreeks => ({
  broker: 'tasty', account: '5WT00001', contractKey: 'SPY   261218C00500000', underlying: 'SPY', eventTs: NOW - 1000, seq: 0, receivedAt: NOW - 1000,
  quantity: -3, multiplier: 100, bid: 25.9, ask: 26.4, mark: 26.15, underlyingPrice: 520.5, iv: 0.244, delta: 0.75, gamma: 0.0095, theta: -0.25, vega: 0.43, rho: 0.1,
  updatedAt: NOW - 1000, ...over,
});

describe('greeks view', () => {
  it('fits 100 columns, shows position Greeks, underlying price, DTE and a total', () => {
    const text = greeksViewTable([row({}), row({ contractKey: 'SPXW  261218P05000000', quantity: 2, underlyingPrice: 5203.1, delta: -0.22, mark: 41.7 })], NOW, 30_000);
    expect(GREEKS_VIEW_WIDTH).toBeLessThanOrEqual(100);
    for (const l of text.split('\n')) expect(l.length).toBeLessThanOrEqual(100);
    const first = text.split('\n')[2];
    // 0.75 × -3 × 100 = -225.0; DTE 2026-12-18 21:00Z − now = 28.25 days
    expect(first).toMatch(/^SPY 261218C500\s+t:5WT00001\s+-3\s+26\.15\s+24\.4\s+520\.50\s+28\.3\s+-225\.0\s+-2\.85\s+75\.0\s+-129\.0\s+1\.0s$/);
    expect(text).toMatch(/total \(2\)\s+-269\.0/); // -225 + (-0.22 × 2 × 100)
  });

  it('columns do not move when the numbers change (fixed widths)', () => {
    const a = greeksViewTable([row({ delta: 0.5, mark: 1.2 })], NOW, 30_000).split('\n');
    const b = greeksViewTable([row({ delta: 0.123456, mark: 1234.5 })], NOW, 30_000).split('\n');
    expect(a.map((l) => l.length)).toEqual(b.map((l) => l.length));
  });
});

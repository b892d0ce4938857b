import type { ContractMarket, RiskInputs, RiskPositionInput } from '../../src/risk/types.js';
import { marketKey } from '../../src/risk/types.js';

export const NOW = Date.parse('2026-11-20T15:00:00Z'); // a Friday, 10:00 New York

export function pos(contractKey: string, quantity: number, avgPrice: number | null, over: Partial<RiskPositionInput> = {}): RiskPositionInput {
  const equity = /^[A-Z]+$/.test(contractKey);
  return {
    broker: 'tasty', account: 'A1', contractKey, underlying: contractKey.slice(0, 6).trim().replace('SPXW', 'SPX'),
    quantity, multiplier: equity ? 1 : 100, avgPrice, assetClass: equity ? 'equity' : 'option', updatedAt: NOW, ...over,
  };
}

export function mkt(over: Partial<ContractMarket>): ContractMarket {
  return { bid: null, ask: null, mark: null, underlyingPrice: null, iv: null, delta: null, gamma: null, theta: null, vega: null, eventTs: NOW - 1000, ...over };
}

/** Inputs from positions and their market rows (same order); prices per symbol. */
export function inputs(positions: RiskPositionInput[], markets: (ContractMarket | null)[], prices: Record<string, number>, over: Partial<RiskInputs> = {}): RiskInputs {
  const market = new Map<string, ContractMarket>();
  positions.forEach((p, i) => {
    const m = markets[i];
    if (m) market.set(marketKey(p.broker, p.account, p.contractKey), m);
  });
  return {
    now: NOW, positions, market,
    prices: new Map(Object.entries(prices).map(([k, v]) => [k, { price: v, at: NOW - 500, source: 'snapshot' }])),
    dayMarks: new Map(), betas: new Map(), benchmark: 'SPY', staleMs: 300_000, ...over,
  };
}

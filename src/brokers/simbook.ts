/**
 * A small synthetic market shared by every simulator (sim broker, Tastytrade and IBKR
 * simulators), so that the demo holds the same contracts at several brokers and their
 * canonical keys can be compared. Greeks come from Black-Scholes so the numbers look real.
 */
import { occKey, type ContractKey, type OptionRight } from '../core/contract.js';

export interface SimContract {
  underlying: string;
  /** OCC root (SPXW for SPX weeklies). */
  root: string;
  expiry: string; // YYYY-MM-DD
  right: OptionRight;
  strike: number;
  multiplier: number;
}

export interface SimGreeks {
  price: number;
  iv: number;
  delta: number;
  gamma: number;
  theta: number;
  vega: number;
  rho: number;
}

/** Third Friday of the month `monthsAhead` after `now` (UTC), as YYYY-MM-DD. */
export function thirdFriday(now: number, monthsAhead: number): string {
  const d = new Date(now);
  const first = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + monthsAhead, 1));
  const offset = (5 - first.getUTCDay() + 7) % 7;
  const day = 1 + offset + 14;
  return new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth(), day)).toISOString().slice(0, 10);
}

export const SPOT: Record<string, number> = { SPY: 520, SPX: 5200, AAPL: 190, QQQ: 440, XSP: 520 };

/** The default book. The first contract (SPY 500 call) is held at every simulated broker. */
export function defaultContracts(now = Date.now()): SimContract[] {
  const m1 = thirdFriday(now, 1);
  const m2 = thirdFriday(now, 2);
  return [
    { underlying: 'SPY', root: 'SPY', expiry: m1, right: 'C', strike: 500, multiplier: 100 },
    { underlying: 'SPY', root: 'SPY', expiry: m1, right: 'P', strike: 502.5, multiplier: 100 },
    { underlying: 'SPX', root: 'SPXW', expiry: m1, right: 'P', strike: 5000, multiplier: 100 },
    { underlying: 'AAPL', root: 'AAPL', expiry: m2, right: 'C', strike: 200, multiplier: 100 },
    { underlying: 'QQQ', root: 'QQQ', expiry: m2, right: 'P', strike: 430, multiplier: 100 },
  ];
}

export function simContractKey(c: SimContract): ContractKey {
  return occKey({ root: c.root, expiry: c.expiry, right: c.right, strike: c.strike });
}

function normCdf(x: number): number {
  // N(x) = (1 + erf(x / sqrt 2)) / 2, erf by Abramowitz-Stegun 7.1.26: plenty for simulated data.
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * z);
  const erf = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-z * z);
  return x >= 0 ? (1 + erf) / 2 : (1 - erf) / 2;
}

function normPdf(x: number): number {
  return Math.exp(-(x * x) / 2) / Math.sqrt(2 * Math.PI);
}

/** Black-Scholes price and greeks (theta per day, vega and rho per 1 vol/rate point). */
export function blackScholes(spot: number, c: SimContract, iv: number, now: number, rate = 0.04): SimGreeks {
  const expiryMs = Date.parse(`${c.expiry}T21:00:00Z`);
  const t = Math.max((expiryMs - now) / (365 * 86_400_000), 1 / (365 * 24));
  const sqrtT = Math.sqrt(t);
  const d1 = (Math.log(spot / c.strike) + (rate + (iv * iv) / 2) * t) / (iv * sqrtT);
  const d2 = d1 - iv * sqrtT;
  const disc = Math.exp(-rate * t);
  const call = c.right === 'C';
  const price = call ? spot * normCdf(d1) - c.strike * disc * normCdf(d2) : c.strike * disc * normCdf(-d2) - spot * normCdf(-d1);
  const delta = call ? normCdf(d1) : normCdf(d1) - 1;
  const gamma = normPdf(d1) / (spot * iv * sqrtT);
  const thetaYear = -(spot * normPdf(d1) * iv) / (2 * sqrtT) + (call ? -rate * c.strike * disc * normCdf(d2) : rate * c.strike * disc * normCdf(-d2));
  const vega = (spot * normPdf(d1) * sqrtT) / 100;
  const rho = (call ? c.strike * t * disc * normCdf(d2) : -c.strike * t * disc * normCdf(-d2)) / 100;
  return { price, iv, delta, gamma, theta: thetaYear / 365, vega, rho };
}

/** Deterministic pseudo-random numbers (mulberry32), so simulator runs are reproducible by seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random walk of spot prices and implied vols for the book, stepped by simulators. */
export class SimMarket {
  private spot: Record<string, number>;
  private ivs: number[];
  private rand: () => number;
  constructor(readonly contracts: SimContract[], seed = 1) {
    this.rand = rng(seed);
    this.spot = { ...SPOT };
    this.ivs = contracts.map(() => 0.15 + this.rand() * 0.15);
  }
  spotOf(underlying: string): number {
    return this.spot[underlying] ?? 100;
  }
  /** Moves the market a little and returns the new greeks of contract i. */
  step(i: number, now: number): SimGreeks {
    const c = this.contracts[i];
    const s = this.spotOf(c.underlying) * (1 + (this.rand() - 0.5) * 0.002);
    this.spot[c.underlying] = s;
    this.ivs[i] = Math.min(1.5, Math.max(0.05, this.ivs[i] + (this.rand() - 0.5) * 0.004));
    return blackScholes(s, c, this.ivs[i], now);
  }
  random(): number {
    return this.rand();
  }
  /** Moves the spot of an underlying no contract of the book steps (a watched index, an ETF). */
  walk(underlying: string): number {
    const s = this.spotOf(underlying) * (1 + (this.rand() - 0.5) * 0.002);
    this.spot[underlying] = s;
    return s;
  }
}

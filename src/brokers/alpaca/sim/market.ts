/**
 * The simulated Alpaca account and market: holdings (stocks and options, Alpaca's own field
 * shapes), underlying prices on a seeded random walk, quotes, and option snapshots whose Greeks
 * are Black-Scholes at the time of the contract's last quote, so an unchanged quote gives an
 * identical snapshot (what the real API returns between two quotes).
 */
import { blackScholes, defaultContracts, rng, SPOT, type SimContract, type SimGreeks } from '../../simbook.js';
import { alpacaSymbolOf } from '../symbols.js';
import { simContractKey } from '../../simbook.js';

export interface AlpacaSimHolding {
  /** Alpaca symbol: `SPY` or the unpadded OCC `SPY250117C00500000`. */
  symbol: string;
  /** Signed (negative = short). */
  qty: number;
  avgPrice: number;
}

export interface SimQuote {
  bp: number;
  ap: number;
  bs: number;
  as: number;
  /** Epoch ms of this quote. */
  t: number;
}

export interface SimSnapshot {
  symbol: string;
  quote: SimQuote;
  greeks: SimGreeks;
}

/** mulberry32, the simulators' seeded randomness (src/brokers/simbook.ts). */
export const seeded = rng;

export const SIM_ACCOUNT = 'PA3SIMALPACA';

export function optionSymbol(c: SimContract): string {
  return alpacaSymbolOf(simContractKey(c));
}

/** The default book: SPY stock, long/short options from the shared simbook (SPY 500 call held everywhere). */
export function defaultHoldings(contracts: SimContract[]): AlpacaSimHolding[] {
  const [spyCall, spyPut, , aaplCall] = contracts;
  return [
    { symbol: 'SPY', qty: 100, avgPrice: 510.25 },
    { symbol: optionSymbol(spyCall), qty: 2, avgPrice: 24.1 },
    { symbol: optionSymbol(spyPut), qty: -3, avgPrice: 6.35 },
    ...(aaplCall ? [{ symbol: optionSymbol(aaplCall), qty: 1, avgPrice: 3.2 }] : []),
  ];
}

export class AlpacaMarket {
  readonly contracts: Map<string, SimContract>;
  readonly spot = new Map<string, number>();
  private readonly quotes = new Map<string, SimQuote>();
  private readonly snaps = new Map<string, SimSnapshot>();
  private readonly iv = new Map<string, number>();

  constructor(contracts: SimContract[] = defaultContracts(), private readonly random: () => number = seeded(12), now = Date.now()) {
    this.contracts = new Map(contracts.map((c) => [optionSymbol(c), c]));
    for (const c of contracts) {
      this.spot.set(c.underlying, SPOT[c.underlying] ?? 100);
      this.iv.set(optionSymbol(c), 0.18 + 0.1 * this.random());
    }
    for (const s of this.spot.keys()) this.requote(s, now);
    for (const sym of this.contracts.keys()) this.requote(sym, now);
  }

  /** Stock symbols with a price. */
  stocks(): string[] {
    return [...this.spot.keys()];
  }

  quote(symbol: string): SimQuote | undefined {
    return this.quotes.get(symbol);
  }

  snapshot(symbol: string): SimSnapshot | undefined {
    return this.snaps.get(symbol);
  }

  /**
   * One market step at `now`: every underlying moves and is requoted; each option is requoted
   * with probability `optionQuoteProb`. Returns the symbols quoted in this step.
   */
  tick(now: number, optionQuoteProb = 0.5): string[] {
    const changed: string[] = [];
    for (const [s, p] of this.spot) {
      this.spot.set(s, Math.max(1, p * (1 + (this.random() - 0.5) * 0.002)));
      this.requote(s, now);
      changed.push(s);
    }
    for (const sym of this.contracts.keys()) {
      if (this.random() < optionQuoteProb) {
        this.requote(sym, now);
        changed.push(sym);
      }
    }
    return changed;
  }

  private requote(symbol: string, now: number): void {
    const c = this.contracts.get(symbol);
    if (!c) {
      const p = this.spot.get(symbol)!;
      const half = Math.max(0.01, Math.round(p * 0.0001 * 100) / 100);
      this.quotes.set(symbol, { bp: round2(p - half), ap: round2(p + half), bs: 1 + Math.floor(this.random() * 9), as: 1 + Math.floor(this.random() * 9), t: now });
      return;
    }
    const g = blackScholes(this.spot.get(c.underlying)!, c, this.iv.get(symbol)!, now);
    const mid = Math.max(0.05, g.price);
    const half = Math.max(0.025, round2(mid * 0.01));
    const quote = { bp: round2(Math.max(0.01, mid - half)), ap: round2(mid + half), bs: 1 + Math.floor(this.random() * 50), as: 1 + Math.floor(this.random() * 50), t: now };
    this.quotes.set(symbol, quote);
    this.snaps.set(symbol, { symbol, quote, greeks: g });
  }
}

const round2 = (x: number) => Math.round(x * 100) / 100;

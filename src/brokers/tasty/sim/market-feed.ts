/**
 * Market events for the DXLink simulator: Greeks and Quote events as dxFeed shapes them,
 * generated from the shared SimMarket, plus the record of every unique Greeks event that was
 * actually sent (the ground truth integration tests compare the database with).
 */
import { SimMarket, simContractKey, type SimContract } from '../../simbook.js';
import { occToStreamer } from '../symbols.js';
import { SentLedger } from '../../simkit/index.js';
import type { GreekValues } from '../../../core/types.js';

/** A dxFeed event: field name → value. Numbers may be NaN (sent as the string "NaN"). */
export type DxEvent = Record<string, string | number>;

/** A Greeks event as sent, with its values as a client must store them (NaN → null). */
export interface SentGreeks extends GreekValues {
  contractKey: string;
  symbol: string;
  time: number;
  sequence: number;
}

export const GREEKS_DEFAULT_FIELDS = ['eventType', 'eventSymbol', 'eventTime', 'eventFlags', 'index', 'time', 'sequence', 'price', 'volatility', 'delta', 'gamma', 'theta', 'rho', 'vega'];
export const QUOTE_DEFAULT_FIELDS = ['eventType', 'eventSymbol', 'eventTime', 'sequence', 'timeNanoPart', 'bidTime', 'bidExchangeCode', 'bidPrice', 'bidSize', 'askTime', 'askExchangeCode', 'askPrice', 'askSize'];
export const KNOWN_FIELDS: Record<string, string[]> = { Greeks: GREEKS_DEFAULT_FIELDS, Quote: QUOTE_DEFAULT_FIELDS };

const nullIfNaN = (v: number) => (Number.isFinite(v) ? v : null);

export class MarketFeed {
  readonly market: SimMarket;
  private bySymbol = new Map<string, number>();
  private lastGreeks = new Map<string, DxEvent>();
  private lastTime = new Map<string, { time: number; seq: number }>();
  private keyOf = new Map<string, string>();
  /** Every unique Greeks event (symbol, time, sequence) that reached a subscriber, in send order. */
  readonly ledger = new SentLedger<SentGreeks>((g) => `${g.symbol}|${g.time}|${g.sequence}`);
  private lateSeq = 0;

  constructor(readonly contracts: SimContract[], seed = 7) {
    this.market = new SimMarket(contracts, seed);
    contracts.forEach((c, i) => this.bySymbol.set(occToStreamer(simContractKey(c)), i));
  }

  hasOption(symbol: string): boolean {
    return this.bySymbol.has(symbol);
  }

  /** A new Greeks event for an option symbol (null for symbols outside the market). */
  nextGreeks(symbol: string, now: number, nanRate = 0, late = false): DxEvent | null {
    const i = this.bySymbol.get(symbol);
    if (i === undefined) return null;
    const g = this.market.step(i, now);
    let seq: number;
    if (late) {
      // A late event carries a past time; a high sequence keeps it distinct from what that ms already had.
      seq = (this.lateSeq = (this.lateSeq % 0x3fffff) + 1) | 0x200000;
    } else {
      // dxFeed `sequence` orders events within one millisecond.
      const prev = this.lastTime.get(symbol);
      seq = prev && prev.time === now ? prev.seq + 1 : 0;
      this.lastTime.set(symbol, { time: now, seq });
    }
    const maybeNaN = (v: number) => (nanRate > 0 && this.market.random() < nanRate ? NaN : v);
    const ev: DxEvent = {
      eventType: 'Greeks', eventSymbol: symbol, eventTime: 0, eventFlags: 0,
      index: Math.floor(now / 1000) * 2 ** 32 + (now % 1000) * 2 ** 22 + seq,
      time: now, sequence: seq, price: g.price,
      volatility: maybeNaN(g.iv), delta: maybeNaN(g.delta), gamma: maybeNaN(g.gamma),
      theta: maybeNaN(g.theta), rho: maybeNaN(g.rho), vega: maybeNaN(g.vega),
    };
    if (!late) this.lastGreeks.set(symbol, ev);
    return ev;
  }

  /** The latest Greeks event of a symbol: what a server re-sends to a new subscriber. */
  latestGreeks(symbol: string): DxEvent | undefined {
    return this.lastGreeks.get(symbol);
  }

  quote(symbol: string, now: number): DxEvent {
    const i = this.bySymbol.get(symbol);
    const mid = i === undefined ? this.market.spotOf(symbol) : Math.max(0.05, Number(this.lastGreeks.get(symbol)?.price ?? 1));
    const half = Math.max(0.01, mid * 0.002);
    return {
      eventType: 'Quote', eventSymbol: symbol, eventTime: 0, sequence: 0, timeNanoPart: 0,
      // Quote times are second-precise in dxFeed, and often 0.
      bidTime: Math.floor(now / 1000) * 1000, bidExchangeCode: 'Q', bidPrice: +(mid - half).toFixed(2), bidSize: 10,
      askTime: 0, askExchangeCode: 'Q', askPrice: +(mid + half).toFixed(2), askSize: 12,
    };
  }

  /** Notes that a Greeks event reached at least one subscriber. */
  recordSent(ev: DxEvent): void {
    const symbol = String(ev.eventSymbol);
    let contractKey = this.keyOf.get(symbol);
    if (contractKey === undefined) this.keyOf.set(symbol, (contractKey = simContractKey(this.contracts[this.bySymbol.get(symbol)!])));
    this.ledger.record({
      contractKey, symbol, time: Number(ev.time), sequence: Number(ev.sequence),
      iv: nullIfNaN(Number(ev.volatility)), delta: nullIfNaN(Number(ev.delta)), gamma: nullIfNaN(Number(ev.gamma)),
      theta: nullIfNaN(Number(ev.theta)), vega: nullIfNaN(Number(ev.vega)), rho: nullIfNaN(Number(ev.rho)),
    });
  }

  sentGreeks(): SentGreeks[] {
    return this.ledger.entries();
  }
}

/** A value as DXLink JSON carries it: special numbers as strings, optionally every number as text. */
export function wireValue(v: string | number, numbersAsStrings = false): string | number {
  if (typeof v !== 'number') return v;
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  if (numbersAsStrings) return v.toExponential().toUpperCase().replace('E+', 'E');
  return v;
}

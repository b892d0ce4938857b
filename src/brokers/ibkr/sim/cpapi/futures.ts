/**
 * The futures book at the simulated Client Portal gateway (src/brokers/simfutures.ts): an ES
 * future (assetClass FUT, real ES-style conid) and two options on it (FOP), in the first account.
 * Position rows carry what the gateway sends for them: product symbol (undSym/ticker ES), the
 * last trading day as `expiry`, right, strike, multiplier 50 ($/point, FUT and FOP alike), the
 * future's conid as `undConid`, and the option class (tradingClass; "(EW3)" in contractDesc).
 * No local symbol, no month code (../shared/brief/ibkr-scale-futures.md §4).
 */
import { ES_PRICE, futureOptionGreeks, type SimFutureOption, type SimFuturesBook } from '../../../simfutures.js';
import { optionFields, underlyingFields } from './feed.js';

export const ES_FUTURE_CONID = 495_512_557;
const FOP_CONID_BASE = 810_000_001;
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

export class CpapiFutures {
  private price = ES_PRICE;
  private readonly ivs: number[];
  constructor(readonly book: SimFuturesBook, readonly account: string, private readonly rand: () => number) {
    this.ivs = book.options.map((_, i) => 0.16 + 0.02 * i);
  }

  optionConid(i: number): number {
    return FOP_CONID_BASE + i;
  }

  /** The option behind a conid, or undefined. */
  option(conid: number): SimFutureOption | undefined {
    return this.book.options[conid - FOP_CONID_BASE];
  }

  knows(conid: number): boolean {
    return conid === ES_FUTURE_CONID || this.option(conid) !== undefined;
  }

  isOption(conid: number): boolean {
    return this.option(conid) !== undefined;
  }

  /** Current fields of a conid of the book (moves the market a little). */
  fields(conid: number, now: number): Record<string, string> | null {
    if (conid === ES_FUTURE_CONID) return underlyingFields(this.step());
    const o = this.option(conid);
    if (!o) return null;
    const g = futureOptionGreeks(o, this.step(), this.ivs[conid - FOP_CONID_BASE], now);
    return optionFields(g, ES_FUTURE_CONID);
  }

  private step(): number {
    this.price = Math.round(this.price * (1 + (this.rand() - 0.5) * 0.001) * 4) / 4;
    return this.price;
  }

  positionRows(account: string): Record<string, unknown>[] {
    if (account !== this.account) return [];
    const f = this.book.future;
    const [fy, fm] = f.expiry.split('-');
    const q = (k: string) => this.book.quantities.get(k) ?? 0;
    const px = (k: string) => this.book.avgPrices.get(k) ?? 0;
    const rows: Record<string, unknown>[] = [{
      acctId: account, conid: ES_FUTURE_CONID, contractDesc: `ES     ${MONTHS[Number(fm) - 1]}${fy}`, position: q(f.key),
      mktPrice: this.price, mktValue: this.price * f.multiplier * q(f.key), currency: 'USD', avgCost: px(f.key) * f.multiplier, avgPrice: px(f.key),
      realizedPnl: 0, unrealizedPnl: 0, assetClass: 'FUT', expiry: f.expiry.replace(/-/g, ''), putOrCall: null, strike: '0',
      multiplier: f.multiplier, undConid: 11_004_968, undSym: 'ES', ticker: 'ES', listingExchange: f.exchange, isUS: true,
    }];
    this.book.options.forEach((o, i) => {
      const [y, m] = o.expiry.split('-');
      rows.push({
        acctId: account, conid: this.optionConid(i), contractDesc: `ES     ${MONTHS[Number(m) - 1]}${y} ${o.strike} ${o.right} (${o.optionRoot})`, position: q(o.key),
        mktPrice: 0, mktValue: 0, currency: 'USD', avgCost: px(o.key) * o.multiplier, avgPrice: px(o.key), realizedPnl: 0, unrealizedPnl: 0,
        assetClass: 'FOP', expiry: o.expiry.replace(/-/g, ''), putOrCall: o.right, strike: String(o.strike), multiplier: o.multiplier,
        undConid: ES_FUTURE_CONID, undSym: 'ES', ticker: 'ES', tradingClass: o.optionRoot, listingExchange: f.exchange, isUS: true,
      });
    });
    return rows;
  }
}

/**
 * Feeds the Redis sink from a running pipeline: the processor's quote and latest-Greeks
 * listeners (every broker), and the risk engine's reports. Synchronous map writes only: the
 * processor never waits on Redis.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { LatestGreeks, Processor, QuoteUpdate } from '../core/processor.js';
import { riskJson, summaryJson } from '../risk/json.js';
import type { RiskReport } from '../risk/report.js';
import type { RedisSink, RiskUpdate } from './sink.js';

/** Quotes → `price:{key}`; Greeks → `greeks:{contract_key}`, and a price for keys no quote stream covers. */
export function feedFromProcessor(processor: Pick<Processor, 'onQuote' | 'onLatest'>, sink: RedisSink): () => void {
  // Keys a quote stream prices: the Greeks' underlying price / option mark never override them.
  const quoted = new Set<string>();
  const offQuote = processor.onQuote((q: QuoteUpdate) => {
    if (q.price === null) return;
    quoted.add(q.key);
    sink.offerPrice({ symbol: q.key, price: q.price, bid: q.bid, ask: q.ask, at: q.eventTs });
  });
  const offLatest = processor.onLatest((s: LatestGreeks) => {
    sink.offerGreeks(s);
    if (s.underlyingPrice !== null && s.underlying && !quoted.has(s.underlying)) {
      sink.offerPrice({ symbol: s.underlying, price: s.underlyingPrice, bid: null, ask: null, at: s.eventTs });
    }
    if (s.mark !== null && !quoted.has(s.contractKey)) {
      sink.offerPrice({ symbol: s.contractKey, price: s.mark, bid: s.bid, ask: s.ask, at: s.eventTs });
    }
  });
  return () => {
    offQuote();
    offLatest();
  };
}

/** The summary document plus, per position, its unrealized P&L and what it is made of. */
export function riskUpdate(r: RiskReport): RiskUpdate {
  const summary = summaryJson(r);
  return {
    asOf: r.asOf,
    summary,
    totals: summary.totals,
    positions: riskJson(r).positions.map((p) => ({
      broker: p.broker, account: p.account, contract_key: p.contract_key, underlying: p.underlying, quantity: p.quantity,
      multiplier: p.multiplier, mark: p.mark, mark_source: p.mark_source, avg_price: p.avg_price,
      unrealized_pnl: p.unrealized_pnl, day_pnl: p.day_pnl, as_of: summary.as_of,
    })),
  };
}

/** Hands a report to the sink every `everyMs`, when `read` has a newer one than last time. */
export function feedRisk(sink: RedisSink, read: () => Promise<RiskReport | null> | RiskReport | null, clock: Clock, everyMs = 1000): () => void {
  let last: RiskReport | null = null;
  let busy = false;
  const timer: TimerHandle = clock.setInterval(() => {
    if (busy) return;
    busy = true;
    Promise.resolve()
      .then(read)
      .then((r) => {
        if (r && r !== last) sink.offerRisk(riskUpdate(r));
        last = r ?? last;
      })
      .catch(() => undefined) // the database is unavailable: the next tick tries again
      .finally(() => { busy = false; });
  }, everyMs);
  return () => clock.clearInterval(timer);
}

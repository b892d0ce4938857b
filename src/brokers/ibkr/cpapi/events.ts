/**
 * A merged smd frame → canonical BrokerEvents. Pure: cache state and target in, events out.
 *  - options: one greeks event per frame that carries any greek field (account undefined: it
 *    applies to every account holding the contract), plus a quote when prices changed;
 *  - underlyings: a quote keyed by the symbol.
 */
import type { BrokerEvent, GreeksEvent } from '../../../core/types.js';
import { FIELD } from './fields.js';
import { greeksSeq, type ConidFieldCache, type MergeResult } from './fieldCache.js';
import type { Target } from './holdings.js';
import { BROKER } from './positions.js';

export function frameEvents(target: Target, cache: ConidFieldCache, merged: MergeResult, receivedAt: number): BrokerEvent[] {
  const out: BrokerEvent[] = [];
  const eventTs = merged.ts;
  if (target.kind === 'option' && merged.greeks) {
    const g = merged.greeks;
    const ev: GreeksEvent = {
      kind: 'greeks',
      broker: BROKER,
      contractKey: target.contractKey,
      underlying: target.underlying,
      eventTs,
      seq: greeksSeq(g),
      receivedAt,
      iv: g[FIELD.iv],
      delta: g[FIELD.delta],
      gamma: g[FIELD.gamma],
      theta: g[FIELD.theta],
      vega: g[FIELD.vega],
      // The Client Portal feed has no rho.
      rho: null,
    };
    // Only known prices ride along: they override the processor's quote cache when present.
    const bid = cache.value(FIELD.bid);
    const ask = cache.value(FIELD.ask);
    const mark = cache.value(FIELD.mark);
    if (bid !== null) ev.bid = bid;
    if (ask !== null) ev.ask = ask;
    if (mark !== null) ev.mark = mark;
    out.push(ev);
  }
  if (merged.pricesChanged && !merged.late) {
    out.push({
      kind: 'quote',
      broker: BROKER,
      key: target.kind === 'option' ? target.contractKey : target.symbol,
      eventTs,
      receivedAt,
      bid: cache.value(FIELD.bid),
      ask: cache.value(FIELD.ask),
      last: cache.value(FIELD.last),
      mark: cache.value(FIELD.mark),
    });
  }
  return out;
}

/**
 * Decoded DXLink events → canonical BrokerEvents. Pure: receipt time and the symbol table
 * come in as arguments.
 */
import { parseOcc, underlyingOfRoot } from '../../core/contract.js';
import { finiteOrNull, type GreeksEvent, type QuoteEvent } from '../../core/types.js';
import type { RawEvent } from './feed-data.js';
import { BROKER } from './positions.js';
import { isStreamerOption, streamerToFutureKey, streamerToOcc } from './symbols.js';

/** dxFeed eventFlags bits. */
export const TX_PENDING = 0x1;
export const REMOVE_EVENT = 0x2;

export type Mapped =
  | { kind: 'event'; event: GreeksEvent | QuoteEvent }
  | { kind: 'skip'; reason: string }
  | { kind: 'malformed'; reason: string };

/**
 * Streamer symbol → the contract it was subscribed for (from the positions being streamed).
 * Unknown symbols fall back to parsing the symbol and the OCC root's underlying.
 */
export type SymbolLookup = (streamerSymbol: string) => { contractKey: string; underlying: string } | undefined;

/** A dxFeed time: ms epoch; 0, missing or not a number means "unknown". */
function timeOrNull(v: unknown): number | null {
  const n = finiteOrNull(v);
  return n !== null && n > 0 ? Math.trunc(n) : null;
}

/** True when a Greeks event carries no time of its own (its event_ts will be the receipt time). */
export function lacksTime(ev: RawEvent): boolean {
  return timeOrNull(ev.time) === null;
}

/**
 * Timeless Greeks get the receipt time, which makes two problems this class solves per symbol:
 * an exact re-send (same sequence and values as the previous timeless event) would look new, so
 * it gets the previous event_ts and is deduplicated downstream; and two different events in one
 * frame with the same sequence would share (event_ts, seq) and one would be dropped as a
 * duplicate, so the later one is moved 1 ms on. Times handed out never go backwards.
 */
export class TimelessGreeks {
  private last = new Map<string, { sig: string; eventTs: number; seqs: Set<number> }>();

  stamp(event: GreeksEvent, symbol: string): GreeksEvent {
    const sig = [event.seq, event.iv, event.delta, event.gamma, event.theta, event.vega, event.rho].join('|');
    const prev = this.last.get(symbol);
    if (prev && prev.sig === sig) return { ...event, eventTs: prev.eventTs };
    let eventTs = Math.max(event.eventTs, prev?.eventTs ?? -Infinity);
    if (prev && eventTs === prev.eventTs && prev.seqs.has(event.seq)) eventTs++;
    const seqs = prev && eventTs === prev.eventTs ? prev.seqs.add(event.seq) : new Set([event.seq]);
    this.last.set(symbol, { sig, eventTs, seqs });
    return eventTs === event.eventTs ? event : { ...event, eventTs };
  }
}

function flagsOf(ev: RawEvent): number {
  const f = finiteOrNull(ev.eventFlags);
  return f === null ? 0 : Math.trunc(f);
}

export function mapGreeks(ev: RawEvent, receivedAt: number, lookup: SymbolLookup): Mapped {
  const symbol = typeof ev.eventSymbol === 'string' ? ev.eventSymbol : '';
  if (!symbol) return { kind: 'malformed', reason: 'Greeks without eventSymbol' };
  // Removal marks a withdrawn event in an indexed snapshot: there are no values to store.
  if (flagsOf(ev) & REMOVE_EVENT) return { kind: 'skip', reason: 'Greeks REMOVE_EVENT' };
  const known = lookup(symbol);
  const contractKey = known?.contractKey ?? streamerToOcc(symbol);
  if (!contractKey) return { kind: 'malformed', reason: `Greeks for non-option symbol ${symbol}` };
  const seq = finiteOrNull(ev.sequence);
  const event: GreeksEvent = {
    kind: 'greeks',
    broker: BROKER,
    contractKey,
    underlying: known?.underlying ?? underlyingOfRoot(parseOcc(contractKey).root),
    eventTs: timeOrNull(ev.time) ?? receivedAt,
    seq: seq === null ? 0 : Math.trunc(seq),
    receivedAt,
    iv: finiteOrNull(ev.volatility),
    delta: finiteOrNull(ev.delta),
    gamma: finiteOrNull(ev.gamma),
    theta: finiteOrNull(ev.theta),
    vega: finiteOrNull(ev.vega),
    rho: finiteOrNull(ev.rho),
  };
  return { kind: 'event', event };
}

export function mapQuote(ev: RawEvent, receivedAt: number, lookup: SymbolLookup): Mapped {
  const symbol = typeof ev.eventSymbol === 'string' ? ev.eventSymbol : '';
  if (!symbol) return { kind: 'malformed', reason: 'Quote without eventSymbol' };
  if (flagsOf(ev) & REMOVE_EVENT) return { kind: 'skip', reason: 'Quote REMOVE_EVENT' };
  let key = symbol;
  const known = lookup(symbol);
  if (known) key = known.contractKey;
  else if (streamerToFutureKey(symbol)) key = streamerToFutureKey(symbol)!;
  else if (isStreamerOption(symbol)) {
    const occ = streamerToOcc(symbol);
    if (!occ) return { kind: 'malformed', reason: `Quote for unparseable option symbol ${symbol}` };
    key = occ;
  }
  const bidTime = timeOrNull(ev.bidTime) ?? 0;
  const askTime = timeOrNull(ev.askTime) ?? 0;
  const latest = Math.max(bidTime, askTime);
  const event: QuoteEvent = {
    kind: 'quote',
    broker: BROKER,
    key,
    // Quote times are often 0 (and only second-precise): receipt time is the honest fallback.
    eventTs: latest > 0 ? latest : timeOrNull(ev.eventTime) ?? receivedAt,
    receivedAt,
    bid: finiteOrNull(ev.bidPrice),
    ask: finiteOrNull(ev.askPrice),
  };
  return { kind: 'event', event };
}

export function mapEvent(ev: RawEvent, receivedAt: number, lookup: SymbolLookup): Mapped {
  switch (ev.eventType) {
    case 'Greeks':
      return mapGreeks(ev, receivedAt, lookup);
    case 'Quote':
      return mapQuote(ev, receivedAt, lookup);
    default:
      return { kind: 'skip', reason: `unrequested event type ${ev.eventType}` };
  }
}

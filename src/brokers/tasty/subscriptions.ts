/**
 * What to subscribe for a set of positions, and how a set changed. Pure.
 * Options: Greeks + Quote on the streamer symbol, Quote on the underlying.
 * Equities and futures: Quote only. Greeks are never asked for non-options (they would never come).
 */
import type { TastyPosition } from './positions.js';

export interface Sub {
  type: 'Greeks' | 'Quote';
  symbol: string;
}

export const subKey = (s: Sub) => `${s.type}:${s.symbol}`;

export function desiredSubscriptions(positions: Iterable<TastyPosition>): Map<string, Sub> {
  const out = new Map<string, Sub>();
  const add = (s: Sub) => out.set(subKey(s), s);
  for (const { position, streamerSymbol, underlyingStreamer } of positions) {
    if (!streamerSymbol) continue;
    if (position.assetClass === 'option') {
      add({ type: 'Greeks', symbol: streamerSymbol });
      add({ type: 'Quote', symbol: streamerSymbol });
      // Futures options quote their future under its DXLink symbol (/ESH27:XCME), not its key.
      if (underlyingStreamer) add({ type: 'Quote', symbol: underlyingStreamer });
      else if (position.underlying) add({ type: 'Quote', symbol: position.underlying });
    } else if (position.assetClass === 'equity' || position.assetClass === 'future') {
      add({ type: 'Quote', symbol: streamerSymbol });
    }
  }
  return out;
}

export function diffSubscriptions(current: Map<string, Sub>, next: Map<string, Sub>): { add: Sub[]; remove: Sub[] } {
  const add = [...next].filter(([k]) => !current.has(k)).map(([, s]) => s);
  const remove = [...current].filter(([k]) => !next.has(k)).map(([, s]) => s);
  return { add, remove };
}

/** Splits a list into chunks of at most n (subscription messages must stay small). */
export function chunks<T>(items: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += Math.max(1, n)) out.push(items.slice(i, i + Math.max(1, n)));
  return out;
}

import { describe, expect, it } from 'vitest';
import { decodeFeedData, FeedSchema, parseFrame } from '../../src/brokers/tasty/feed-data.js';
import { mapEvent, TimelessGreeks } from '../../src/brokers/tasty/events.js';
import type { GreeksEvent } from '../../src/core/types.js';

const schema = () => {
  const s = new FeedSchema();
  // Server order differs from the order we asked for: mapping must go by name.
  s.applyConfig({ eventFields: { Greeks: ['eventType', 'eventSymbol', 'sequence', 'time', 'delta', 'volatility', 'eventFlags'], Quote: ['eventType', 'eventSymbol', 'bidPrice', 'askPrice', 'bidTime', 'askTime'] } });
  return s;
};
const none = () => undefined;

describe('tasty FEED_DATA decoding', () => {
  it('decodes several events and several types in one COMPACT message', () => {
    const d = decodeFeedData(
      ['Greeks', ['Greeks', '.SPY251219C500', 1, 1734600000000, 0.5, 0.2, 0, 'Greeks', '.SPY251219C500', 2, 1734600000000, 0.51, 0.21, 0],
       'Quote', ['Quote', 'SPY', 519.9, 520.1, 0, 0]],
      schema(),
    );
    expect(d.malformed).toEqual([]);
    expect(d.events.map((e) => [e.eventType, e.eventSymbol, e.sequence ?? e.bidPrice])).toEqual([
      ['Greeks', '.SPY251219C500', 1], ['Greeks', '.SPY251219C500', 2], ['Quote', 'SPY', 519.9],
    ]);
  });

  it('counts a partial trailing event and data before FEED_CONFIG as malformed, keeping whole events', () => {
    const d = decodeFeedData(['Greeks', ['Greeks', '.SPY251219C500', 1, 5, 0.5, 0.2, 0, 'Greeks', '.SPY'], 'Trade', ['Trade', 'SPY']], schema());
    expect(d.events).toHaveLength(1);
    expect(d.malformed).toHaveLength(2);
  });

  it('decodes FULL format too', () => {
    const d = decodeFeedData([{ eventType: 'Quote', eventSymbol: 'SPY', bidPrice: 1 }], new FeedSchema());
    expect(d.events[0].bidPrice).toBe(1);
  });

  it('flags frames that are not DXLink messages', () => {
    expect(parseFrame('{nope').malformed).toEqual(['frame is not JSON']);
    expect(parseFrame('[1]').msg).toBeNull();
    expect(parseFrame('{"type":"KEEPALIVE","channel":0}').msg?.type).toBe('KEEPALIVE');
  });
});

describe('tasty event mapping', () => {
  it('maps Greeks with NaN/Infinity strings to null and exponent strings to numbers', () => {
    const m = mapEvent({ eventType: 'Greeks', eventSymbol: '.SPY251219C500', time: '1.7346E12', sequence: 3, volatility: 'NaN', delta: '5.2E-1', gamma: 'Infinity', theta: -0.1, vega: '-Infinity', rho: 0.4 }, 99, none);
    expect(m.kind).toBe('event');
    if (m.kind !== 'event' || m.event.kind !== 'greeks') throw new Error('not greeks');
    expect(m.event).toMatchObject({ contractKey: 'SPY   251219C00500000', underlying: 'SPY', eventTs: 1734600000000, seq: 3, iv: null, delta: 0.52, gamma: null, vega: null, theta: -0.1, rho: 0.4, receivedAt: 99 });
    expect(m.event.account).toBeUndefined();
  });

  it('stamps receipt time when Greeks time is 0 and uses the positions underlying', () => {
    const m = mapEvent({ eventType: 'Greeks', eventSymbol: '.SPXW251219P5000', time: 0, sequence: 0, delta: -0.3 }, 1234, () => ({ contractKey: 'SPXW  251219P05000000', underlying: 'SPX' }));
    if (m.kind !== 'event' || m.event.kind !== 'greeks') throw new Error('not greeks');
    expect(m.event.eventTs).toBe(1234);
    expect(m.event.underlying).toBe('SPX');
  });

  it('skips REMOVE_EVENT and reports Greeks for a non-option as malformed', () => {
    expect(mapEvent({ eventType: 'Greeks', eventSymbol: '.SPY251219C500', time: 5, eventFlags: 2 }, 1, none).kind).toBe('skip');
    expect(mapEvent({ eventType: 'Greeks', eventSymbol: '.SPY251219C500', time: 5, eventFlags: 0x4 }, 1, none).kind).toBe('event');
    expect(mapEvent({ eventType: 'Greeks', eventSymbol: 'SPY', time: 5 }, 1, none).kind).toBe('malformed');
  });

  it('keys option quotes by contract and underlying quotes by symbol', () => {
    const o = mapEvent({ eventType: 'Quote', eventSymbol: '.SPY251219C500', bidPrice: 1, askPrice: '1.1', bidTime: 0, askTime: 0 }, 77, none);
    const u = mapEvent({ eventType: 'Quote', eventSymbol: 'SPY', bidPrice: 'NaN', askPrice: 520, bidTime: 10, askTime: 20 }, 77, none);
    expect(o.kind === 'event' && o.event).toMatchObject({ kind: 'quote', key: 'SPY   251219C00500000', bid: 1, ask: 1.1, eventTs: 77 });
    expect(u.kind === 'event' && u.event).toMatchObject({ kind: 'quote', key: 'SPY', bid: null, ask: 520, eventTs: 20 });
  });

  it('gives an identical re-send of a timeless Greeks event the same event time', () => {
    const t = new TimelessGreeks();
    const at = (receivedAt: number, delta: number) => {
      const m = mapEvent({ eventType: 'Greeks', eventSymbol: '.SPY251219C500', time: 0, sequence: 1, delta }, receivedAt, none);
      return t.stamp((m as { event: GreeksEvent }).event, '.SPY251219C500').eventTs;
    };
    expect(at(100, 0.5)).toBe(100);
    expect(at(200, 0.5)).toBe(100); // duplicate: same sequence and values
    expect(at(300, 0.6)).toBe(300); // new values: a new event
    expect(at(300, 0.7)).toBe(301); // same frame, same sequence, other values: kept apart
    expect(at(300, 0.8)).toBe(302);
  });
});

describe('FEED_CONFIG with one bad entry', () => {
  it('reports it and still applies the valid types announced beside it', () => {
    const s = new FeedSchema();
    const reason = s.applyConfig({ eventFields: { Quote: [], Greeks: ['eventType', 'eventSymbol', 'delta'] } });
    expect(reason).toMatch(/eventFields\.Quote/);
    expect(s.fieldsOf('Greeks')).toEqual(['eventType', 'eventSymbol', 'delta']);
  });
});

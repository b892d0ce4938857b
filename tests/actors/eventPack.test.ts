import { describe, expect, it } from 'vitest';
import { packEvents, unpackEvents } from '../../src/actors/eventPack.js';
import type { BrokerEvent } from '../../src/core/types.js';

const greeks = (over: Partial<Extract<BrokerEvent, { kind: 'greeks' }>> = {}): BrokerEvent => ({
  kind: 'greeks', broker: 'sim', contractKey: 'SPY   261218C00600000', underlying: 'SPY', eventTs: 1_700_000_000_123.5, seq: 7, receivedAt: 1_700_000_000_200,
  iv: 0.2, delta: 0.5, gamma: 0.01, theta: -0.1, vega: 0.3, rho: 0.05, bid: 1.1, ask: 1.2, underlyingPrice: 600, ...over,
});

describe('data-plane packing', () => {
  it('gives back the same events in the same order, other kinds untouched', () => {
    const events: BrokerEvent[] = [
      { kind: 'state', broker: 'sim', at: 1, state: 'connected' },
      greeks(),
      greeks({ account: 'A1', seq: 8, bid: null, mark: 1.15, underlyingPrice: undefined }),
      { kind: 'quote', broker: 'sim', key: 'SPY', eventTs: 5, receivedAt: 6, bid: 599.99, ask: 600.01 },
      greeks({ iv: null, delta: Number.NaN, contractKey: 'QQQ   261218P00400000', underlying: 'QQQ' }),
    ];
    const { packed, transfer } = packEvents(events);
    expect(transfer.length).toBe(4);
    // What arrives on the other side is a structured clone of the message.
    const back = unpackEvents(structuredClone(packed, { transfer }));
    expect(back).toHaveLength(events.length);
    expect(back[0]).toEqual(events[0]);
    expect(back[3]).toEqual(events[3]);
    expect(back[1]).toEqual(events[1]);
    expect(back[2]).toMatchObject({ account: 'A1', seq: 8, bid: null, mark: 1.15 });
    expect(back[2]).toEqual(events[2]);
    expect((back[4] as { iv: unknown }).iv).toBeNull();
    expect((back[4] as { delta: number }).delta).toBeNaN();
    expect((back[1] as { account?: string }).account).toBeUndefined();
  });

  it('keeps a missing event time missing, so the processor still drops the event as invalid', () => {
    const bad = greeks({ eventTs: undefined as unknown as number });
    const [back] = unpackEvents(packEvents([bad]).packed);
    expect(Number.isFinite((back as { eventTs: number }).eventTs)).toBe(false);
  });
});

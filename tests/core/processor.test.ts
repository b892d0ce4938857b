import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import { Processor } from '../../src/core/processor.js';
import type { GreekSnapshot, GreeksEvent, Position } from '../../src/core/types.js';

const KEY = 'SPY   251219C00500000';
const pos = (account: string, quantity: number): Position => ({
  broker: 'sim', account, contractKey: KEY, underlying: 'SPY', quantity, multiplier: 100, avgPrice: 1.5, assetClass: 'option',
});
const greeks = (eventTs: number, seq: number, delta: number, account?: string): GreeksEvent => ({
  kind: 'greeks', broker: 'sim', account, contractKey: KEY, underlying: 'SPY', eventTs, seq, receivedAt: eventTs + 5,
  iv: 0.2, delta, gamma: 0.01, theta: -0.1, vega: 0.3, rho: null,
});

function setup() {
  const written: GreekSnapshot[] = [];
  const positionWrites: Array<{ account: string; n: number }> = [];
  const storage = {
    async writeSnapshots(rows: GreekSnapshot[]) {
      written.push(...rows);
      return { inserted: rows.length, duplicates: 0 };
    },
    async replacePositions(_b: string, account: string, p: Position[]) {
      positionWrites.push({ account, n: p.length });
    },
    async writeTrades() {
      return { inserted: 1, duplicates: 0 };
    },
  };
  const p = new Processor({ storage, log: pino({ level: 'silent' }), clock: new FakeClock() });
  return { p, written, positionWrites };
}

describe('processor', () => {
  it('produces one snapshot per greeks update per holding account, with quantity and multiplier', async () => {
    const { p, written } = setup();
    p.ingest([
      { kind: 'positions', broker: 'sim', account: 'A', at: 0, positions: [pos('A', 2)] },
      { kind: 'positions', broker: 'sim', account: 'B', at: 0, positions: [pos('B', -3)] },
      greeks(1000, 0, 0.5),
    ]);
    await p.drain();
    expect(written.map((r) => [r.account, r.quantity, r.multiplier, r.delta]).sort()).toEqual([
      ['A', 2, 100, 0.5],
      ['B', -3, 100, 0.5],
    ]);
  });

  it('joins the latest quote and underlying price', async () => {
    const { p, written } = setup();
    p.ingest([
      { kind: 'positions', broker: 'sim', account: 'A', at: 0, positions: [pos('A', 1)] },
      { kind: 'quote', broker: 'sim', key: KEY, eventTs: 900, receivedAt: 900, bid: 1.0, ask: 1.2 },
      { kind: 'quote', broker: 'sim', key: 'SPY', eventTs: 900, receivedAt: 900, bid: 519.9, ask: 520.1 },
      greeks(1000, 0, 0.5),
    ]);
    await p.drain();
    expect(written[0]).toMatchObject({ bid: 1.0, ask: 1.2, mark: 1.1, underlyingPrice: 520 });
  });

  it('drops and counts exact duplicates', async () => {
    const { p, written } = setup();
    p.ingest([{ kind: 'positions', broker: 'sim', account: 'A', at: 0, positions: [pos('A', 1)] }, greeks(1000, 7, 0.5), greeks(1000, 7, 0.5)]);
    await p.drain();
    expect(written).toHaveLength(1);
    expect(p.stats().drops.duplicate).toBe(1);
  });

  it('stores an out-of-order update but keeps the newest as latest', async () => {
    const { p, written } = setup();
    p.ingest([{ kind: 'positions', broker: 'sim', account: 'A', at: 0, positions: [pos('A', 1)] }, greeks(2000, 0, 0.6), greeks(1000, 0, 0.4)]);
    await p.drain();
    expect(written.map((r) => r.eventTs)).toEqual([2000, 1000]);
    expect(p.latestGreeks()[0].delta).toBe(0.6);
    expect(p.stats().outOfOrder).toBe(1);
  });

  it('counts greeks for contracts nobody holds instead of storing them', async () => {
    const { p, written } = setup();
    p.ingest([greeks(1000, 0, 0.5)]);
    await p.drain();
    expect(written).toHaveLength(0);
    expect(p.stats().drops.not_held).toBe(1);
  });

  it('a closed position stops producing rows and leaves the latest view', async () => {
    const { p, written, positionWrites } = setup();
    p.ingest([{ kind: 'positions', broker: 'sim', account: 'A', at: 0, positions: [pos('A', 1)] }, greeks(1000, 0, 0.5)]);
    p.ingest([{ kind: 'positions', broker: 'sim', account: 'A', at: 1, positions: [] }, greeks(2000, 0, 0.5)]);
    await p.drain();
    expect(written).toHaveLength(1);
    expect(p.latestGreeks()).toHaveLength(0);
    expect(positionWrites).toEqual([{ account: 'A', n: 1 }, { account: 'A', n: 0 }]);
  });

  it('counts malformed events reported by actors', () => {
    const { p } = setup();
    p.ingest([{ kind: 'malformed', broker: 'sim', at: 0, reason: 'bad json', count: 3 }]);
    expect(p.stats().drops.malformed).toBe(3);
  });

  it('records received→persisted latency for every written row', async () => {
    const { p } = setup();
    p.ingest([{ kind: 'positions', broker: 'sim', account: 'A', at: 0, positions: [pos('A', 1)] }, greeks(1000, 0, 0.5), greeks(1001, 0, 0.5)]);
    await p.drain();
    expect(p.stats().latency.count).toBe(2);
  });
});

describe('quote cache', () => {
  it('takes the last quote received, even when its broker time reads earlier than a receipt-stamped one', async () => {
    const { p, written } = setup();
    p.ingest([
      { kind: 'positions', broker: 'sim', account: 'A', at: 0, positions: [pos('A', 1)] },
      { kind: 'quote', broker: 'sim', key: KEY, eventTs: 5000, receivedAt: 5000, bid: 1.0, ask: 1.2 }, // stamped on receipt
      { kind: 'quote', broker: 'sim', key: KEY, eventTs: 4000, receivedAt: 5100, bid: 2.0, ask: 2.2 }, // broker time, second precision
      greeks(6000, 0, 0.5),
    ]);
    await p.drain();
    expect(written[0]).toMatchObject({ bid: 2.0, ask: 2.2 });
  });
});

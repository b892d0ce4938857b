/** The stream controller with a fake REST and a fake DXLink connection: timers on a FakeClock. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import type { BrokerEvent } from '../../src/core/types.js';
import { parseTastyConfig } from '../../src/brokers/tasty/config.js';
import type { FeedConnection, FeedConnector, FeedHandlers } from '../../src/brokers/tasty/dxlink.js';
import type { QuoteToken, TastyRest } from '../../src/brokers/tasty/rest.js';
import { rotationDelay, TastyStream } from '../../src/brokers/tasty/stream.js';
import type { Sub } from '../../src/brokers/tasty/subscriptions.js';

const log = pino({ level: 'silent' });
const flush = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

function setup(env: Record<string, string> = {}) {
  const clock = new FakeClock();
  let positions: unknown[] = [
    { 'account-number': 'A1', symbol: 'SPY   251219C00500000', 'instrument-type': 'Equity Option', 'underlying-symbol': 'SPY', quantity: 1, 'quantity-direction': 'Long', multiplier: 100 },
  ];
  let tokens = 0;
  const rest: TastyRest = {
    accountNumbers: async () => [{ account: { 'account-number': 'A1' } }],
    positions: async () => positions,
    quoteToken: async (): Promise<QuoteToken> => ({ token: `t${++tokens}`, dxlinkUrl: 'ws://fake', level: 'api', expiresAt: Date.now() + 86_400_000 }),
    stats: () => ({ requests: 0, retries: 0, waitingUntil: null }),
    close: () => {},
  };
  const conns: { handlers: FeedHandlers; subs: Map<string, Sub>; closed: boolean; token: string }[] = [];
  const connect: FeedConnector = (_url, token, handlers) => {
    const c = { handlers, subs: new Map<string, Sub>(), closed: false, token };
    conns.push(c);
    const conn: FeedConnection = {
      channelId: 1,
      add: (subs) => subs.forEach((s) => c.subs.set(`${s.type}:${s.symbol}`, s)),
      remove: (subs) => subs.forEach((s) => c.subs.delete(`${s.type}:${s.symbol}`)),
      replaceAll: (subs) => { c.subs.clear(); conn.add(subs); },
      setToken: (t) => void (c.token = t),
      connectionState: () => 'CONNECTED',
      authState: () => 'AUTHORIZED',
      close: () => void (c.closed = true),
    };
    return conn;
  };
  const events: BrokerEvent[] = [];
  const config = parseTastyConfig({ TASTY_CLIENT_SECRET: 's', TASTY_REFRESH_TOKEN: 'r', ...env });
  const stream = new TastyStream(config, { emit: (e) => events.push(e), log, clock }, { rest, connect, random: () => 0.5 });
  return { clock, stream, conns, events, setPositions: (p: unknown[]) => (positions = p), tokens: () => tokens };
}

describe('tasty stream controller', () => {
  it('replaces a client that gave up, backing off 0 s, 1 s, 2 s, 4 s between attempts', async () => {
    const t = setup();
    await t.stream.start();
    const gaveUp = async () => {
      t.conns.at(-1)!.handlers.onConnectionState('NOT_CONNECTED', 'CONNECTING');
      await flush();
    };
    await gaveUp();
    expect(t.conns).toHaveLength(2); // first replacement at once
    await gaveUp();
    expect(t.conns).toHaveLength(2);
    t.clock.advance(999);
    await flush();
    expect(t.conns).toHaveLength(2);
    t.clock.advance(1);
    await flush();
    expect(t.conns).toHaveLength(3);
    await gaveUp();
    t.clock.advance(1_999);
    await flush();
    expect(t.conns).toHaveLength(3);
    t.clock.advance(1);
    await flush();
    expect(t.conns).toHaveLength(4);
    expect(t.conns.slice(0, 3).every((c) => c.closed)).toBe(true);
    // Every replacement carries every subscription and a fresh token.
    expect([...t.conns[3].subs.keys()].sort()).toEqual(['Greeks:.SPY251219C500', 'Quote:.SPY251219C500', 'Quote:SPY']);
    expect(t.conns[3].token).toBe('t4');
    // A successful connection resets the back-off.
    t.conns[3].handlers.onConnectionState('CONNECTED', 'CONNECTING');
    await gaveUp();
    expect(t.conns).toHaveLength(5);
  });

  it('treats any frame as life and rebuilds only after the keepalive bound of silence', async () => {
    const t = setup();
    await t.stream.start();
    const c = t.conns[0];
    for (let i = 0; i < 5; i++) {
      t.clock.advance(50_000);
      c.handlers.onFrame('{"type":"KEEPALIVE","channel":0}');
    }
    expect(t.conns).toHaveLength(1);
    t.clock.advance(60_000);
    expect(t.conns).toHaveLength(1);
    t.clock.advance(5_000);
    await flush();
    expect(t.conns).toHaveLength(2);
    expect(t.events.some((e) => e.kind === 'state' && e.state === 'degraded')).toBe(false); // never connected yet: 'connecting'
  });

  it('rotates the quote token on the live connection before it expires', async () => {
    const t = setup();
    await t.stream.start();
    t.conns[0].handlers.onConnectionState('CONNECTED', 'CONNECTING');
    const liveMinutes = async (n: number) => {
      for (let m = 0; m < n; m++) {
        t.clock.advance(60_000);
        t.conns[0].handlers.onFrame('{"type":"KEEPALIVE","channel":0}');
      }
      await flush();
    };
    await liveMinutes(22 * 60 + 58);
    expect(t.conns[0].token).toBe('t1');
    await liveMinutes(2); // 23 h: an hour before the 24 h expiry
    expect(t.conns).toHaveLength(1);
    expect(t.conns[0].token).toBe('t2');
  });

  it('subscribes new positions and unsubscribes closed ones on the poll', async () => {
    const t = setup({ TASTY_POSITIONS_POLL_MS: '1000' });
    await t.stream.start();
    t.setPositions([
      { symbol: 'QQQ   251219P00430000', 'instrument-type': 'Equity Option', 'underlying-symbol': 'QQQ', quantity: 2, 'quantity-direction': 'Short', multiplier: 100 },
    ]);
    t.clock.advance(1_000);
    await flush();
    expect([...t.conns[0].subs.keys()].sort()).toEqual(['Greeks:.QQQ251219P430', 'Quote:.QQQ251219P430', 'Quote:QQQ']);
    const pos = t.events.filter((e) => e.kind === 'positions');
    expect(pos).toHaveLength(2);
    t.clock.advance(1_000);
    await flush();
    expect(t.events.filter((e) => e.kind === 'positions')).toHaveLength(2); // unchanged: no new event
  });

  it('computes rotation an hour before a day-long expiry and at 3/4 of a short one', () => {
    expect(rotationDelay(86_400_000)).toBe(23 * 3_600_000);
    expect(rotationDelay(8 * 60_000)).toBe(6 * 60_000);
  });
});

describe('tasty stream stop', () => {
  it('never opens a connection when stopped while start() waits for REST', async () => {
    const t = setup();
    const started = t.stream.start();
    await t.stream.stop();
    await started.catch(() => undefined);
    await flush();
    expect(t.conns.every((c) => c.closed)).toBe(true);
    expect(t.clock.pending()).toBe(0);
  });
});

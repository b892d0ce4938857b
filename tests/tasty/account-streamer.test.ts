/** Account streamer: message mapping (pure) and the connection lifecycle on a FakeClock with a fake socket. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import type { TradeEvent } from '../../src/core/types.js';
import {
  AccountStreamer,
  CATCH_UP_MARGIN_MS,
  mapAccountMessage,
  mapOrder,
  parseAccountFrame,
  sideOf,
  type AccountSocketFactory,
  type AccountSocketHandlers,
} from '../../src/brokers/tasty/account-streamer.js';
import { accountStreamerUrlFor, parseTastyConfig, PROD_API_URL, SANDBOX_API_URL } from '../../src/brokers/tasty/config.js';

const log = pino({ level: 'silent' });

const fill = (over: Record<string, unknown> = {}) => ({
  'ext-group-fill-id': '0',
  'ext-exec-id': 'x1',
  'fill-id': 'F-1',
  quantity: 2,
  'fill-price': '1.25',
  'filled-at': '2025-01-02T15:30:00.123Z',
  'destination-venue': 'CBOE',
  ...over,
});
const order = (legs: unknown[], over: Record<string, unknown> = {}) => ({
  type: 'Order',
  data: { id: 77, 'account-number': '5WT00001', status: 'Filled', 'underlying-symbol': 'SPY', legs, ...over },
  timestamp: 1,
});
const leg = (action: string, fills: unknown[], symbol = 'SPY   250117C00500000') => ({
  'instrument-type': 'Equity Option',
  symbol,
  quantity: 2,
  'remaining-quantity': 0,
  action,
  fills,
});

describe('account streamer mapping', () => {
  it('maps each fill of a filled order to a trade event', () => {
    const r = mapAccountMessage(order([leg('Buy to Open', [fill(), fill({ 'fill-id': 'F-2', quantity: '1', 'fill-price': '1.30' })]), leg('Sell to Close', [fill({ 'fill-id': 'F-3' })], 'SPY   250117P00480000')]));
    expect(r.malformed).toEqual([]);
    expect(r.trades).toEqual<TradeEvent[]>([
      { kind: 'trade', broker: 'tasty', account: '5WT00001', tradeId: 'F-1', contractKey: 'SPY   250117C00500000', side: 'buy', quantity: 2, price: 1.25, executedAt: Date.parse('2025-01-02T15:30:00.123Z'), source: 'account-streamer' },
      { kind: 'trade', broker: 'tasty', account: '5WT00001', tradeId: 'F-2', contractKey: 'SPY   250117C00500000', side: 'buy', quantity: 1, price: 1.3, executedAt: Date.parse('2025-01-02T15:30:00.123Z'), source: 'account-streamer' },
      { kind: 'trade', broker: 'tasty', account: '5WT00001', tradeId: 'F-3', contractKey: 'SPY   250117P00480000', side: 'sell', quantity: 2, price: 1.25, executedAt: Date.parse('2025-01-02T15:30:00.123Z'), source: 'account-streamer' },
    ]);
  });

  it('maps the four actions to sides and rejects others', () => {
    expect(['Buy to Open', 'Buy to Close', 'Sell to Open', 'Sell to Close', 'Buy', 'Sell', 'Exercise'].map(sideOf)).toEqual(['buy', 'buy', 'sell', 'sell', 'buy', 'sell', null]);
  });

  it('canonicalises a compact OCC leg symbol', () => {
    const { trades } = mapOrder(order([leg('Sell to Open', [fill()], 'SPXW250117P05000000')]).data);
    expect(trades[0]!.contractKey).toBe('SPXW  250117P05000000');
  });

  it('emits nothing for orders without fills, equity legs and other message types', () => {
    expect(mapAccountMessage(order([leg('Buy to Open', [])], { status: 'Live' })).trades).toEqual([]);
    expect(mapAccountMessage(order([{ ...leg('Buy', [fill()], 'SPY'), 'instrument-type': 'Equity' }])).trades).toEqual([]);
    const bal = mapAccountMessage({ type: 'AccountBalance', data: { 'account-number': '5WT00001' } });
    expect(bal).toEqual({ trades: [], positionsChanged: false, malformed: [], reply: null });
  });

  it('counts malformed fills and legs without throwing, keeping the good ones', () => {
    const r = mapAccountMessage(
      order([
        leg('Buy to Open', [fill({ 'fill-id': '' }), fill({ 'fill-id': 'Q', quantity: 0 }), fill({ 'fill-id': 'P', 'fill-price': 'abc' }), fill({ 'fill-id': 'T', 'filled-at': 'yesterday' }), fill({ 'fill-id': 'OK' })]),
        leg('Roll', [fill({ 'fill-id': 'R' })]),
        leg('Buy to Open', [fill({ 'fill-id': 'S' })], 'NOT AN OCC'),
        42,
      ]),
    );
    expect(r.trades.map((t) => t.tradeId)).toEqual(['OK']);
    expect(r.malformed).toHaveLength(7);
    expect(mapOrder(null).malformed).toHaveLength(1);
    expect(mapOrder({ id: 1, legs: 'x' }).malformed).toHaveLength(1);
    expect(mapOrder({ id: 1, legs: [leg('Buy to Open', [fill()])] }).malformed).toEqual(['Order 1: fills without account-number']);
    expect(mapAccountMessage('nope').malformed).toHaveLength(1);
  });

  it('reads position changes, action replies and {results} batches; non-JSON is malformed', () => {
    expect(mapAccountMessage({ type: 'CurrentPosition', data: { symbol: 'x' } }).positionsChanged).toBe(true);
    expect(mapAccountMessage({ status: 'ok', action: 'connect', 'request-id': 1 }).reply).toEqual({ action: 'connect', ok: true, message: '' });
    expect(mapAccountMessage({ status: 'error', action: 'connect', message: 'bad token' }).reply).toEqual({ action: 'connect', ok: false, message: 'bad token' });
    expect(parseAccountFrame(JSON.stringify({ results: [{ a: 1 }, { b: 2 }] })).messages).toHaveLength(2);
    expect(parseAccountFrame('{oops')).toEqual({ messages: [], malformed: ['account streamer: frame is not JSON'] });
    expect(parseAccountFrame('[1]').malformed).toHaveLength(1);
  });
});

describe('account streamer URL', () => {
  const creds = { TASTY_CLIENT_SECRET: 's', TASTY_REFRESH_TOKEN: 'r' };
  it('uses the real streamers for the real APIs, the explicit URL when set, and none for a custom API', () => {
    expect(accountStreamerUrlFor(PROD_API_URL, undefined)).toBe('wss://streamer.tastyworks.com');
    expect(accountStreamerUrlFor(SANDBOX_API_URL, '')).toBe('wss://streamer.cert.tastyworks.com');
    expect(parseTastyConfig(creds).accountStreamerUrl).toBe('wss://streamer.tastyworks.com');
    expect(parseTastyConfig({ ...creds, TASTY_API_URL: 'http://127.0.0.1:9' }).accountStreamerUrl).toBeNull();
    expect(parseTastyConfig({ ...creds, TASTY_API_URL: 'http://127.0.0.1:9', TASTY_ACCOUNT_STREAMER_URL: 'ws://127.0.0.1:10' }).accountStreamerUrl).toBe('ws://127.0.0.1:10');
    expect(() => parseTastyConfig({ ...creds, TASTY_ACCOUNT_STREAMER_URL: 'http://x' })).toThrow(/TASTY_ACCOUNT_STREAMER_URL/);
  });
});

/** A fake socket per connect attempt; the test drives open/message/close. */
function fakeSockets() {
  const made: { url: string; h: AccountSocketHandlers; sent: Record<string, unknown>[]; closed: boolean }[] = [];
  const factory: AccountSocketFactory = (url, h) => {
    const s = { url, h, sent: [] as Record<string, unknown>[], closed: false };
    made.push(s);
    return { send: (t) => void s.sent.push(JSON.parse(t)), close: () => void (s.closed = true) };
  };
  return { made, factory };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('account streamer connection', () => {
  function setup(authToken: () => Promise<string> = async () => 'Bearer tok', catchUp?: (since: number) => Promise<number>) {
    const clock = new FakeClock();
    const sockets = fakeSockets();
    const trades: TradeEvent[] = [];
    const malformed: string[] = [];
    let refreshes = 0;
    const s = new AccountStreamer({
      url: 'ws://x',
      accounts: () => ['A1', 'A2'],
      authToken,
      clock,
      log,
      random: () => 0.5,
      heartbeatMs: 20_000,
      socket: sockets.factory,
      onTrade: (t) => trades.push(t),
      onPositionsChanged: () => refreshes++,
      onMalformed: (r) => malformed.push(r),
      catchUp,
    });
    return { clock, sockets, trades, malformed, s, refreshes: () => refreshes };
  }

  it('connects with the accounts and token, heartbeats on the clock, and routes messages', async () => {
    const t = setup();
    t.s.start();
    await flush();
    const sock = t.sockets.made[0]!;
    sock.h.onOpen();
    expect(sock.sent[0]).toMatchObject({ action: 'connect', value: ['A1', 'A2'], 'auth-token': 'Bearer tok' });
    sock.h.onMessage(JSON.stringify({ status: 'ok', action: 'connect', 'request-id': 1 }));
    expect(t.s.currentState).toBe('connected');
    t.clock.advance(20_000);
    expect(sock.sent.at(-1)).toMatchObject({ action: 'heartbeat', 'auth-token': 'Bearer tok' });
    sock.h.onMessage(JSON.stringify({ status: 'ok', action: 'heartbeat' }));
    t.clock.advance(20_000);
    expect(sock.sent.filter((m) => m.action === 'heartbeat')).toHaveLength(2);

    sock.h.onMessage(JSON.stringify({ results: [order([leg('Buy to Open', [fill()])]), { type: 'CurrentPosition', data: {} }, { type: 'CurrentPosition', data: {} }] }));
    sock.h.onMessage('garbage');
    expect(t.trades.map((x) => x.tradeId)).toEqual(['F-1']);
    expect(t.refreshes()).toBe(1); // one refresh per frame, however many positions it carries
    expect(t.malformed).toEqual(['account streamer: frame is not JSON']);
    t.s.stop();
    expect(sock.closed).toBe(true);
    expect(t.clock.pending()).toBe(0);
  });

  it('reconnects with backoff after a drop or a failed token, and never throws', async () => {
    let fail = 1;
    const t = setup(async () => {
      if (fail-- > 0) throw new Error('oauth down');
      return 'Bearer tok';
    });
    t.s.start();
    await flush();
    expect(t.sockets.made).toHaveLength(0);
    expect(t.s.currentState).toBe('down');
    t.clock.advance(1_000); // first retry: 1 s (random 0.5 = no jitter)
    await flush();
    expect(t.sockets.made).toHaveLength(1);
    t.sockets.made[0]!.h.onClose('ECONNREFUSED');
    t.clock.advance(1_999);
    await flush();
    expect(t.sockets.made).toHaveLength(1); // second retry: 2 s
    t.clock.advance(1);
    await flush();
    expect(t.sockets.made).toHaveLength(2);
    // A socket that never answers is replaced by the watchdog (more than 3 heartbeat periods).
    t.clock.advance(60_000);
    await flush();
    expect(t.sockets.made[1]!.closed).toBe(false);
    t.clock.advance(20_000);
    await flush();
    expect(t.sockets.made[1]!.closed).toBe(true);
    t.clock.advance(4_000);
    await flush();
    expect(t.sockets.made).toHaveLength(3);
    // Callbacks of a replaced socket are ignored.
    t.sockets.made[1]!.h.onMessage(JSON.stringify(order([leg('Buy to Open', [fill()])])));
    expect(t.trades).toHaveLength(0);
    t.s.stop();
    expect(t.clock.pending()).toBe(0);
  });

  it('treats a refused connect as a drop', async () => {
    const t = setup();
    t.s.start();
    await flush();
    t.sockets.made[0]!.h.onOpen();
    t.sockets.made[0]!.h.onMessage(JSON.stringify({ status: 'error', action: 'connect', message: 'invalid token' }));
    expect(t.s.currentState).toBe('down');
    expect(t.sockets.made[0]!.closed).toBe(true);
    t.s.stop();
  });

  it('after a reconnect (never on the first connect) asks REST for fills since the newest seen minus a margin', async () => {
    const asked: number[] = [];
    const t = setup(async () => 'Bearer tok', async (since) => {
      asked.push(since);
      return 3;
    });
    const ack = JSON.stringify({ status: 'ok', action: 'connect' });
    t.s.start();
    await flush();
    t.sockets.made[0]!.h.onOpen();
    t.sockets.made[0]!.h.onMessage(ack);
    expect(asked).toEqual([]); // the first connect has nothing to catch up on
    t.sockets.made[0]!.h.onMessage(JSON.stringify(order([leg('Buy to Open', [fill({ 'filled-at': '2025-01-02T15:30:00.000Z' })])])));
    t.sockets.made[0]!.h.onClose('reset by peer');
    t.clock.advance(1_000);
    await flush();
    t.sockets.made[1]!.h.onOpen();
    t.sockets.made[1]!.h.onMessage(ack);
    await flush();
    expect(asked).toEqual([Date.parse('2025-01-02T15:30:00.000Z') - CATCH_UP_MARGIN_MS]);
    expect(t.s.stats).toMatchObject({ catchUps: 1, catchUpTrades: 3, catchUpErrors: 0 });
    t.s.stop();
  });

  it('without a fill seen, catches up from the first connect; a failed catch-up is counted, not fatal', async () => {
    const asked: number[] = [];
    const t = setup(async () => 'Bearer tok', async (since) => {
      asked.push(since);
      throw new Error('HTTP 503');
    });
    const ack = JSON.stringify({ status: 'ok', action: 'connect' });
    t.s.start();
    await flush();
    const firstAt = t.clock.now();
    t.sockets.made[0]!.h.onOpen();
    t.sockets.made[0]!.h.onMessage(ack);
    t.clock.advance(5_000);
    t.sockets.made[0]!.h.onClose('reset');
    t.clock.advance(1_000);
    await flush();
    t.sockets.made[1]!.h.onOpen();
    t.sockets.made[1]!.h.onMessage(ack);
    await flush();
    expect(asked).toEqual([firstAt - CATCH_UP_MARGIN_MS]);
    expect(t.s.stats.catchUpErrors).toBe(1);
    expect(t.s.currentState).toBe('connected');
    t.s.stop();
  });
});

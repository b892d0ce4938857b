import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { FakeClock } from '../helpers/fake-clock.js';
import type { BrokerEvent, GreeksEvent } from '../../src/core/types.js';
import { parseIbkrConfig } from '../../src/brokers/ibkr/config.js';
import { CpapiStream, type CpapiStreamOptions } from '../../src/brokers/ibkr/cpapi/stream.js';
import type { CpapiRest } from '../../src/brokers/ibkr/cpapi/rest.js';
import type { SocketHandlers } from '../../src/brokers/ibkr/cpapi/socket.js';

/** stop() drains for 300 ms on the stream's Clock: let that pass on fake time. */
async function stopOnFakeTime(clock: FakeClock, stream: { stop(): Promise<void> }): Promise<void> {
  const stopping = stream.stop();
  clock.advance(300);
  await stopping;
}


const flush = async () => {
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 20; j++) await Promise.resolve();
    await new Promise((r) => setImmediate(r));
  }
};

function option(conid: number, strike: number, undConid: number) {
  return {
    conid, position: 1, assetClass: 'OPT', putOrCall: 'C', strike, expiry: '20261218', multiplier: 100, undSym: 'SPY', undConid, avgCost: 100,
    contractDesc: `SPY    DEC2026 ${strike} C [SPY   261218C${String(strike * 1000).padStart(8, '0')} 100]`,
  };
}

/** A scripted gateway REST side: counts calls, can be made to report a competing session. */
class FakeRest implements CpapiRest {
  calls: string[] = [];
  competing = false;
  rows: unknown[] = [option(101, 500, 756733), option(102, 510, 756733)];
  async get(path: string) {
    this.calls.push(`GET ${path}`);
    if (path === '/iserver/accounts') return { accounts: ['U1'] };
    if (path === '/portfolio/accounts') return [{ id: 'U1', accountId: 'U1' }];
    const m = path.match(/^\/portfolio\/U1\/positions\/(\d+)$/);
    if (m) return this.rows.slice(Number(m[1]) * 100, Number(m[1]) * 100 + 100);
    throw new Error(`unexpected GET ${path}`);
  }
  async post(path: string) {
    this.calls.push(`POST ${path}`);
    if (path === '/iserver/auth/status') return { authenticated: !this.competing, competing: this.competing, connected: true };
    if (path === '/iserver/auth/ssodh/init') {
      this.competing = false;
      return { authenticated: true, competing: false, connected: true };
    }
    if (path === '/tickle') return { session: 'sess1', iserver: { authStatus: { authenticated: true, competing: false, connected: true } } };
    throw new Error(`unexpected POST ${path}`);
  }
  cookies() {
    return 'x-sess-uuid=abc';
  }
  close() {}
  count(call: string) {
    return this.calls.filter((c) => c === call).length;
  }
}

class FakeSockets {
  opened: { url: string; cookie: string; sent: string[]; h: SocketHandlers; closed: boolean }[] = [];
  factory = (url: string, cookie: string, _tls: boolean, h: SocketHandlers) => {
    const s = { url, cookie, sent: [] as string[], h, closed: false };
    this.opened.push(s);
    return { send: (t: string) => s.sent.push(t), close: () => void (s.closed = true) };
  };
  get last() {
    return this.opened[this.opened.length - 1];
  }
}

async function setup(env: Record<string, string> = {}, opts: CpapiStreamOptions = {}) {
  const clock = new FakeClock();
  const rest = new FakeRest();
  const sockets = new FakeSockets();
  const events: BrokerEvent[] = [];
  const config = parseIbkrConfig({ IBKR_GATEWAY_URL: 'https://127.0.0.1:5000', IBKR_HEARTBEAT_MS: '60000', ...env });
  const stream = new CpapiStream(config, { emit: (e) => events.push(e), log: pino({ level: 'silent' }), clock }, {
    rest, openSocket: sockets.factory, random: () => 1, ...opts,
  });
  await stream.start();
  sockets.last.h.onOpen();
  sockets.last.h.onMessage('{"topic":"system","success":"user1"}');
  return { clock, rest, sockets, events, stream };
}

const smdSends = (sent: string[], conid: number) => sent.filter((t) => t.startsWith(`smd+${conid}+`)).length;

describe('cpapi stream (fake gateway, fake clock)', () => {
  it('authenticates, primes accounts, and opens the socket with the api session cookie', async () => {
    const { rest, sockets, events } = await setup();
    expect(rest.calls.slice(0, 3)).toEqual(['POST /iserver/auth/status', 'GET /iserver/accounts', 'GET /portfolio/accounts']);
    expect(sockets.last.url).toBe('wss://127.0.0.1:5000/v1/api/ws');
    expect(sockets.last.cookie).toBe('api=sess1; x-sess-uuid=abc');
    expect(events.find((e) => e.kind === 'positions')).toMatchObject({ account: 'U1', positions: [{ contractKey: 'SPY   261218C00500000' }, { contractKey: 'SPY   261218C00510000' }] });
    expect(events.filter((e) => e.kind === 'state').map((e) => (e as { state: string }).state)).toEqual(['connecting', 'connected']);
  });

  it('subscribes every option with greek fields and the underlying with price fields', async () => {
    const { sockets } = await setup();
    expect(sockets.last.sent).toEqual([
      'smd+101+{"fields":["31","84","86","7308","7309","7310","7311","7633","7635","6457"]}',
      'smd+102+{"fields":["31","84","86","7308","7309","7310","7311","7633","7635","6457"]}',
      'smd+756733+{"fields":["31","84","86"]}',
    ]);
  });

  it('sends tic and tickle once per heartbeat period', async () => {
    const { clock, rest, sockets } = await setup({ IBKR_HEARTBEAT_MS: '5000' });
    const tickles = rest.count('POST /tickle');
    for (let i = 0; i < 4; i++) sockets.last.h.onMessage('{"topic":"system","hb":1}');
    clock.advance(4999);
    expect(sockets.last.sent.filter((t) => t === 'tic')).toHaveLength(0);
    clock.advance(1);
    expect(sockets.last.sent.filter((t) => t === 'tic')).toHaveLength(1);
    expect(rest.count('POST /tickle')).toBe(tickles + 1);
    for (let i = 0; i < 3; i++) {
      sockets.last.h.onMessage('{"topic":"system","hb":1}');
      clock.advance(5000);
    }
    expect(sockets.last.sent.filter((t) => t === 'tic')).toHaveLength(4);
    expect(rest.count('POST /tickle')).toBe(tickles + 4);
  });

  it('keeps a socket that hears system heartbeats every 10 s', async () => {
    const { clock, sockets } = await setup();
    for (let i = 0; i < 12; i++) {
      clock.advance(10_000);
      sockets.last.h.onMessage('{"topic":"system","hb":1}');
    }
    expect(sockets.opened).toHaveLength(1);
    expect(sockets.last.closed).toBe(false);
  });

  it('declares a silent socket dead after 30 s and reconnects with every subscription', async () => {
    const { clock, sockets, stream } = await setup();
    clock.advance(29_000);
    expect(sockets.last.closed).toBe(false);
    clock.advance(1_000);
    expect(sockets.opened[0].closed).toBe(true);
    expect(stream.health().state).toBe('disconnected');
    await clock.advanceAsync(500); // backoff base with random()=1
    await flush();
    expect(sockets.opened).toHaveLength(2);
    sockets.last.h.onOpen();
    sockets.last.h.onMessage('{"topic":"sts","args":{"authenticated":true,"competing":false,"connected":true}}');
    for (const conid of [101, 102, 756733]) expect(smdSends(sockets.last.sent, conid)).toBe(1);
    expect(stream.health()).toMatchObject({ state: 'connected', reconnects: 1 });
  });

  it('re-sends every smd subscription before the 10-minute expiry', async () => {
    const { clock, sockets } = await setup();
    for (let t = 0; t < 9 * 60; t += 10) {
      sockets.last.h.onMessage('{"topic":"system","hb":1}');
      clock.advance(10_000);
    }
    expect(sockets.opened).toHaveLength(1);
    for (const conid of [101, 102, 756733]) expect(smdSends(sockets.last.sent, conid)).toBe(2);
  });

  it('on a competing session re-authenticates with ssodh/init and restores subscriptions', async () => {
    const { clock, rest, sockets } = await setup();
    rest.competing = true;
    sockets.last.h.onMessage('{"topic":"sts","args":{"authenticated":false,"competing":true,"connected":true}}');
    expect(sockets.opened[0].closed).toBe(true);
    await clock.advanceAsync(500);
    await flush();
    expect(rest.count('POST /iserver/auth/ssodh/init')).toBe(1);
    expect(rest.count('GET /iserver/accounts')).toBe(2);
    sockets.last.h.onOpen();
    sockets.last.h.onMessage('{"topic":"system","success":"user1"}');
    for (const conid of [101, 102, 756733]) expect(smdSends(sockets.last.sent, conid)).toBe(1);
  });

  it('backs off exponentially while the gateway stays unreachable', async () => {
    const { clock, rest, sockets } = await setup();
    let attempts = 0;
    rest.post = async () => {
      attempts++;
      throw new Error('ECONNREFUSED');
    };
    sockets.last.h.onClose(1006, '');
    // random() = 1: delays are exactly 500, 1000, 2000 ms.
    await clock.advanceAsync(499);
    expect(attempts).toBe(0);
    await clock.advanceAsync(1);
    await flush();
    expect(attempts).toBe(1);
    await clock.advanceAsync(999);
    expect(attempts).toBe(1);
    await clock.advanceAsync(1);
    await flush();
    expect(attempts).toBe(2);
    await clock.advanceAsync(1999);
    expect(attempts).toBe(2);
    await clock.advanceAsync(1);
    await flush();
    expect(attempts).toBe(3);
    expect(sockets.opened).toHaveLength(1);
  });

  it('emits one greeks event per frame with greeks, IV as a fraction and event_ts from _updated', async () => {
    const { sockets, events } = await setup();
    const s = sockets.last.h;
    s.onMessage('{"topic":"smd+101","conid":101,"_updated":1700000000000}');
    s.onMessage('{"topic":"smd+101","conid":101,"_updated":1700000000100,"84":"1.10","86":"1.20"}');
    s.onMessage('{"topic":"smd+101","conid":101,"_updated":1700000000200,"7308":"0.52","7309":"0.011","7310":"-0.09","7311":"0.40","7633":"24.5%"}');
    s.onMessage('{"topic":"smd+101","conid":101,"_updated":1700000000300,"7308":"0.53"}');
    const greeks = events.filter((e): e is GreeksEvent => e.kind === 'greeks');
    expect(greeks).toHaveLength(2);
    expect(greeks[0].account).toBeUndefined();
    expect(greeks[0]).toMatchObject({ contractKey: 'SPY   261218C00500000', eventTs: 1700000000200, delta: 0.52, bid: 1.1, ask: 1.2, rho: null });
    expect(greeks[0].iv).toBeCloseTo(0.245, 12);
    expect(greeks[1]).toMatchObject({ eventTs: 1700000000300, delta: 0.53, gamma: 0.011, theta: -0.09, vega: 0.4 });
    expect(events.filter((e) => e.kind === 'quote')).toHaveLength(1);
  });

  it('counts malformed frames and keeps going', async () => {
    const { sockets, events, stream } = await setup();
    sockets.last.h.onMessage('{{{');
    sockets.last.h.onMessage('{"topic":"smd+101","conid":101,"_updated":5,"7308":"0.5"}');
    expect(events.filter((e) => e.kind === 'malformed')).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'greeks')).toHaveLength(1);
    expect(stream.health().malformed).toBe(1);
  });

  it('pages positions 100 at a time and stops on a short page', async () => {
    const clock = new FakeClock();
    const rest = new FakeRest();
    rest.rows = Array.from({ length: 150 }, (_, i) => option(1000 + i, 100 + i, 756733));
    const sockets = new FakeSockets();
    const events: BrokerEvent[] = [];
    const stream = new CpapiStream(parseIbkrConfig({}), { emit: (e) => events.push(e), log: pino({ level: 'silent' }), clock }, { rest, openSocket: sockets.factory });
    await stream.start();
    expect(rest.calls.filter((c) => c.startsWith('GET /portfolio/U1/positions/'))).toEqual(['GET /portfolio/U1/positions/0', 'GET /portfolio/U1/positions/1']);
    expect(events.find((e) => e.kind === 'positions')).toMatchObject({ positions: { length: 150 } });
    await stopOnFakeTime(clock, stream);
  });

  it('re-polls positions and subscribes new holdings, unsubscribes closed ones', async () => {
    const { clock, rest, sockets, events } = await setup({ IBKR_POSITIONS_POLL_MS: '60000' });
    rest.rows = [option(101, 500, 756733), option(103, 520, 756733)];
    for (let t = 0; t < 60; t += 10) {
      sockets.last.h.onMessage('{"topic":"system","hb":1}');
      clock.advance(10_000);
    }
    await flush();
    expect(smdSends(sockets.last.sent, 103)).toBe(1);
    expect(sockets.last.sent).toContain('umd+102+{}');
    expect(events.filter((e) => e.kind === 'positions')).toHaveLength(2);
  });

  it('stops cleanly: no timers left, later socket callbacks ignored', async () => {
    const { clock, sockets, stream, events } = await setup();
    await stopOnFakeTime(clock, stream);
    expect(clock.pending()).toBe(0);
    const n = events.length;
    sockets.last.h.onClose(1006, '');
    sockets.last.h.onMessage('{"topic":"smd+101","conid":101,"_updated":5,"7308":"0.5"}');
    expect(events.length).toBe(n);
    expect(stream.health().state).toBe('stopped');
  });
});

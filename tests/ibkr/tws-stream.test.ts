import { EventEmitter } from 'node:events';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import type { BrokerEvent, GreeksEvent } from '../../src/core/types.js';
import { parseIbkrConfig } from '../../src/brokers/ibkr/config.js';
import type { TwsApi } from '../../src/brokers/ibkr/tws/api.js';
import { createTwsStream } from '../../src/brokers/ibkr/tws/stream.js';

/** stop() drains for 300 ms on the stream's Clock: let that pass on fake time. */
async function stopOnFakeTime(clock: FakeClock, stream: { stop(): Promise<void> }): Promise<void> {
  const stopping = stream.stop();
  clock.advance(300);
  await stopping;
}


/** Stands in for IBApi: records requests; the test plays TWS by emitting its events. */
class FakeApi extends EventEmitter {
  calls: unknown[][] = [];
  private rec = (name: string) => (...args: unknown[]) => void this.calls.push([name, ...args]);
  connect = this.rec('connect');
  disconnect = this.rec('disconnect');
  reqMarketDataType = this.rec('reqMarketDataType');
  reqPositions = this.rec('reqPositions');
  cancelPositions = this.rec('cancelPositions');
  reqMktData = this.rec('reqMktData');
  cancelMktData = this.rec('cancelMktData');
  reqCurrentTime = this.rec('reqCurrentTime');
  named(name: string) {
    return this.calls.filter((c) => c[0] === name);
  }
}

const SPY_C = { conId: 1, symbol: 'SPY', secType: 'OPT', lastTradeDateOrContractMonth: '20250117', strike: 500, right: 'C', multiplier: 100, localSymbol: 'SPY   250117C00500000', tradingClass: 'SPY' };
const SPY_KEY = 'SPY   250117C00500000';

function setup(env: Record<string, string> = {}) {
  const clock = new FakeClock();
  const apis: FakeApi[] = [];
  const events: BrokerEvent[] = [];
  const config = parseIbkrConfig({ IBKR_TRANSPORT: 'tws', IBKR_HEARTBEAT_MS: '60000', ...env });
  const stream = createTwsStream(config, { emit: (e) => events.push(e), log: pino({ level: 'silent' }), clock }, {
    createApi: () => {
      const api = new FakeApi();
      apis.push(api);
      return api as unknown as TwsApi;
    },
    random: () => 0.5,
    backoff: { baseMs: 1000, maxMs: 8000 },
  });
  /** Plays a healthy TWS handshake + positions on the newest api. */
  const handshake = () => {
    const api = apis[apis.length - 1];
    api.emit('connected');
    api.emit('managedAccounts', 'DU1,DU2');
    api.emit('nextValidId', 1);
    api.emit('position', 'DU1', SPY_C, 2, 350);
    api.emit('position', 'DU1', { symbol: 'SPY', secType: 'STK' }, 100, 520);
    api.emit('positionEnd');
    return api;
  };
  const states = () => events.filter((e) => e.kind === 'state').map((e) => (e as { state: string }).state);
  return { clock, apis, events, stream, handshake, states };
}

const flush = () => new Promise((r) => setImmediate(r));

describe('tws stream (fake TWS, fake clock)', () => {
  it('starts: market data type, positions per account, one reqMktData per held option', async () => {
    const t = setup({ IBKR_MARKET_DATA_TYPE: '3' });
    const started = t.stream.start();
    const api = t.handshake();
    await started;
    expect(api.named('reqMarketDataType')).toEqual([['reqMarketDataType', 3]]);
    expect(api.named('reqMktData')).toHaveLength(1);
    expect(api.named('reqMktData')[0][2]).toMatchObject({ conId: 1, exchange: 'SMART' });
    const pos = t.events.filter((e) => e.kind === 'positions');
    expect(pos.map((p) => (p as { account: string }).account).sort()).toEqual(['DU1', 'DU2']);
    expect(t.stream.health()).toMatchObject({ state: 'connected', subscriptions: 1 });
    await stopOnFakeTime(t.clock, t.stream);
  });

  it('prefers model greeks: bid/ask computations are used until a model tick arrives, then ignored', async () => {
    const t = setup();
    const started = t.stream.start();
    const api = t.handshake();
    await started;
    const reqId = api.named('reqMktData')[0][1] as number;
    api.emit('tickOptionComputation', reqId, 13, 0, -1, -2, -1, -1, -2, -2, -2, -1); // not computed yet
    api.emit('tickOptionComputation', reqId, 10, 0, 0.2, 0.5, 3.0, 0, 0.01, 0.2, -0.1, 520);
    api.emit('tickOptionComputation', reqId, 13, 0, 0.21, 0.51, 3.1, 0, 0.011, 0.21, -0.11, 520);
    api.emit('tickOptionComputation', reqId, 11, 0, 0.22, 0.52, 3.2, 0, 0.012, 0.22, -0.12, 520);
    api.emit('tickOptionComputation', reqId, 13, 0, 0.21, 0.51, 3.1, 0, 0.011, 0.21, -0.11, 520); // duplicate
    const greeks = t.events.filter((e): e is GreeksEvent => e.kind === 'greeks');
    expect(greeks.map((g) => [g.iv, g.seq])).toEqual([[0.2, 1], [0.21, 2], [0.21, 2]]);
    expect(greeks[1]).toMatchObject({ contractKey: SPY_KEY, underlying: 'SPY', account: undefined, mark: 3.1, underlyingPrice: 520, rho: null });
    expect(greeks[0].mark).toBeUndefined();
    expect(greeks[2].eventTs).toBe(greeks[1].eventTs);
    expect(t.stream.health().details).toMatchObject({ duplicates: 1, superseded: 1, empty: 1 });
    await stopOnFakeTime(t.clock, t.stream);
  });

  it('counts a NaN greek as malformed and keeps streaming', async () => {
    const t = setup();
    const started = t.stream.start();
    const api = t.handshake();
    await started;
    const reqId = api.named('reqMktData')[0][1] as number;
    api.emit('tickOptionComputation', reqId, 13, 0, 0.2, Number.NaN, 3, 0, 0.01, 0.2, -0.1, 520);
    api.emit('tickOptionComputation', reqId, 13, 0, 0.2, 0.5, 3, 0, 0.01, 0.2, -0.1, 520);
    api.emit('error', new Error('Underrun error on TICK_OPTION_COMPUTATION'), 505, -1);
    expect(t.events.filter((e) => e.kind === 'malformed')).toHaveLength(2);
    expect(t.events.filter((e) => e.kind === 'greeks')).toHaveLength(1);
    expect(t.stream.health().malformed).toBe(2);
    await stopOnFakeTime(t.clock, t.stream);
  });

  it('heartbeat: no currentTime reply → degraded, then reconnects after backoff and restores subscriptions', async () => {
    const t = setup();
    const started = t.stream.start();
    const first = t.handshake();
    await started;
    t.clock.advance(60_000);
    expect(first.named('reqCurrentTime')).toHaveLength(1);
    first.emit('currentTime', 1);
    t.clock.advance(60_000);
    expect(first.named('reqCurrentTime')).toHaveLength(2);
    t.clock.advance(10_000); // no reply
    expect(t.states().slice(-2)).toEqual(['degraded', 'disconnected']);
    expect(first.named('disconnect')).toHaveLength(1);
    expect(t.apis).toHaveLength(1);
    t.clock.advance(750); // backoff attempt 0: base 1000 → [500, 1000], random 0.5 → 750
    expect(t.apis).toHaveLength(2);
    const second = t.handshake();
    expect(second.named('reqMktData')).toHaveLength(1);
    expect(second.named('reqMktData')[0][2]).toMatchObject({ conId: 1 });
    expect(t.stream.health()).toMatchObject({ state: 'connected', reconnects: 1, subscriptions: 1 });
    await stopOnFakeTime(t.clock, t.stream);
  });

  it('backoff grows while TWS stays away and resets after a good session', async () => {
    const t = setup();
    const started = t.stream.start();
    t.handshake();
    await started;
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const n = t.apis.length;
      t.apis[n - 1].emit('disconnected');
      let waited = 0;
      while (t.apis.length === n) {
        t.clock.advance(50);
        waited += 50;
      }
      delays.push(waited);
    }
    expect(delays).toEqual([750, 1500, 3000, 6000, 6000]);
    t.handshake();
    t.apis[t.apis.length - 1].emit('disconnected');
    const n = t.apis.length;
    t.clock.advance(749);
    expect(t.apis).toHaveLength(n);
    t.clock.advance(1);
    expect(t.apis).toHaveLength(n + 1);
    await stopOnFakeTime(t.clock, t.stream);
  });

  it('1101 re-sends every subscription and the positions request; 2103 then 2104 re-sends market data', async () => {
    const t = setup();
    const started = t.stream.start();
    const api = t.handshake();
    await started;
    api.emit('info', 'Connectivity between IB and TWS has been lost', 1100);
    expect(t.stream.health().state).toBe('degraded');
    api.emit('info', 'Connectivity restored - data lost', 1101);
    expect(t.stream.health().state).toBe('connected');
    expect(api.named('cancelMktData')).toHaveLength(1);
    expect(api.named('reqMktData')).toHaveLength(2);
    expect(api.named('reqPositions')).toHaveLength(2);
    api.emit('info', 'Market data farm connection is OK:usfarm', 2104); // routine, not after a 2103
    expect(api.named('reqMktData')).toHaveLength(2);
    api.emit('info', 'Market data farm connection is broken:usfarm', 2103);
    expect(t.stream.health().state).toBe('degraded');
    api.emit('info', 'Market data farm connection is OK:usfarm', 2104);
    expect(api.named('reqMktData')).toHaveLength(3);
    expect(t.stream.health().state).toBe('connected');
    await stopOnFakeTime(t.clock, t.stream);
  });

  it('competing session → degraded, retried later, connected again once data flows', async () => {
    const t = setup();
    const started = t.stream.start();
    const api = t.handshake();
    await started;
    const reqId = api.named('reqMktData')[0][1] as number;
    api.emit('error', new Error('No market data during competing live session'), 10197, reqId);
    expect(t.stream.health().state).toBe('degraded');
    t.clock.advance(60_000);
    api.emit('currentTime', 1);
    expect(api.named('reqMktData')).toHaveLength(2);
    const newReqId = api.named('reqMktData')[1][1] as number;
    api.emit('tickPrice', newReqId, 1, 3.1);
    expect(t.stream.health().state).toBe('connected');
    await stopOnFakeTime(t.clock, t.stream);
  });

  it('a reconnect forgets the old connection\'s competing-session and farm trouble', async () => {
    const t = setup();
    const started = t.stream.start();
    const first = t.handshake();
    await started;
    first.emit('info', 'Market data farm connection is broken:usopt', 2103);
    first.emit('error', new Error('No market data during competing live session'), 10197, first.named('reqMktData')[0][1]);
    expect(t.stream.health().state).toBe('degraded');
    first.emit('disconnected');
    t.clock.advance(1000);
    t.handshake();
    expect(t.stream.health().state).toBe('connected');
    await stopOnFakeTime(t.clock, t.stream);
  });

  it('start() fails with a one-line reason when the first connection cannot be made', async () => {
    const t = setup();
    const started = t.stream.start();
    t.apis[0].emit('error', new Error('connect ECONNREFUSED 127.0.0.1:4002'), 502, -1);
    t.apis[0].emit('disconnected');
    await expect(started).rejects.toThrow(/cannot stream from TWS at 127\.0\.0\.1:4002: socket closed: 502 connect ECONNREFUSED/);
    t.clock.advance(120_000);
    expect(t.apis).toHaveLength(1);
    await flush();
  });
});

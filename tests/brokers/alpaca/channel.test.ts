/**
 * One Alpaca channel on fake time, over a scripted fake socket and the real SDK stream class:
 * the reconnect pacing after 406, the silence watchdog, terminal auth codes.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { FakeClock } from '../../helpers/fake-clock.js';
import { AlpacaChannel, type ChannelState } from '../../../src/brokers/alpaca/channel.js';
import { JsonStockStream } from '../../../src/brokers/alpaca/stream.js';

/** A server script per socket: what it answers to the client's frames. */
type Script = (msg: Record<string, unknown>, sock: FakeSocket) => void;

class FakeSocket extends EventEmitter {
  readyState = 0;
  sent: Record<string, unknown>[] = [];
  pings = 0;
  answerPings = true;
  terminated = false;
  constructor(private readonly script: Script) {
    super();
    queueMicrotask(() => {
      this.readyState = 1;
      this.emit('open');
      this.push([{ T: 'success', msg: 'connected' }]);
    });
  }
  push(frames: unknown): void {
    if (this.readyState === 1) this.emit('message', Buffer.from(JSON.stringify(frames)), false);
  }
  send(data: string): void {
    const msg = JSON.parse(data) as Record<string, unknown>;
    this.sent.push(msg);
    this.script(msg, this);
  }
  ping(): void {
    this.pings++;
    if (this.answerPings) queueMicrotask(() => this.emit('pong'));
  }
  close(): void {
    this.end();
  }
  terminate(): void {
    this.terminated = true;
    this.end();
  }
  /** The server closes. */
  end(): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.emit('close', 1006, Buffer.alloc(0));
  }
}

/** Server behaviour: accept, or answer auth with an error code (and close). */
function server(authError: () => number | null): Script {
  return (msg, sock) => {
    if (msg.action === 'auth') {
      const code = authError();
      if (code) {
        sock.push([{ T: 'error', code, msg: code === 406 ? 'connection limit exceeded' : code === 402 ? 'auth failed' : 'error' }]);
        queueMicrotask(() => sock.end());
      } else sock.push([{ T: 'success', msg: 'authenticated' }]);
    } else if (msg.action === 'subscribe') {
      sock.push([{ T: 'subscription', quotes: msg.quotes ?? [] }]);
    }
  };
}

function channel(clock: FakeClock, script: Script) {
  const sockets: FakeSocket[] = [];
  const opens: number[] = [];
  const states: ChannelState[] = [];
  const c = new AlpacaChannel({
    name: 'stocks', url: 'ws://sim/v2/iex', clock, silenceMs: 3000, backoffBaseMs: 1000, backoffMaxMs: 64_000, limitFloorMs: 5000, random: () => 0.5,
    build: (wsFactory) => {
      const s = new JsonStockStream({ credentials: { keyId: 'K', secret: 'S' }, url: 'ws://sim/v2/iex', reconnect: false, pingIntervalMs: 0, wsFactory });
      s.subscribeForQuotes(['SPY']); // as the plugin does: handed over before auth, sent once after it
      return s;
    },
    onReady: () => {},
    log: () => {},
    onState: (s) => states.push(s),
    openSocket: () => {
      const s = new FakeSocket(script);
      sockets.push(s);
      opens.push(clock.now());
      return s as unknown as WebSocket;
    },
  });
  return { c, sockets, opens, states };
}

const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
};

describe('alpaca channel (fake clock)', () => {
  it('after a 406 the next attempt waits the floor, then backs off; success resets', async () => {
    const clock = new FakeClock();
    let refusals = 3;
    const { c, opens, sockets } = channel(clock, server(() => (refusals-- > 0 ? 406 : null)));
    c.start();
    await settle();
    for (let t = 0; t < 60 && c.state !== 'ready'; t++) await clock.advanceAsync(1000, 250);
    expect(c.state).toBe('ready');
    expect(c.counts.limit406).toBe(3);
    expect(opens).toHaveLength(4);
    const gaps = opens.slice(1).map((t, i) => t - opens[i]!);
    for (const g of gaps) expect(g).toBeGreaterThanOrEqual(5000); // never a 1 s retry into a held slot
    expect(sockets.at(-1)!.sent.map((m) => m.action)).toEqual(['auth', 'subscribe']);
    expect(sockets.at(-1)!.sent[1]).toEqual({ action: 'subscribe', quotes: ['SPY'] });
  });

  it('a socket that stops answering (no frame, no pong) is cut and replaced', async () => {
    const clock = new FakeClock();
    const { c, sockets } = channel(clock, server(() => null));
    c.start();
    await settle();
    expect(c.state).toBe('ready');
    await clock.advanceAsync(6000, 500); // pongs keep it alive: no data needed
    expect(sockets).toHaveLength(1);
    expect(sockets[0]!.pings).toBeGreaterThan(3);
    sockets[0]!.answerPings = false;
    await clock.advanceAsync(3500, 250);
    expect(c.counts.silences).toBe(1);
    expect(sockets[0]!.terminated).toBe(true);
    await clock.advanceAsync(1000, 250);
    expect(sockets).toHaveLength(2);
    expect(c.state).toBe('ready');
  });

  it('402 is terminal: one attempt, a one-line fix, no retry', async () => {
    const clock = new FakeClock();
    const { c, sockets, states } = channel(clock, server(() => 402));
    const settled = c.whenSettled();
    c.start();
    await settle();
    expect(await settled).toBe(false);
    await clock.advanceAsync(120_000, 5000);
    expect(sockets).toHaveLength(1);
    expect(c.state).toBe('failed');
    expect(states.at(-1)).toBe('failed');
    expect(c.terminal).toMatch(/^Alpaca stocks stream refused the API keys \(402 auth failed\): check ALPACA_KEY_ID \/ ALPACA_SECRET_KEY/);
  });
});

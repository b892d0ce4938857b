/**
 * One Alpaca WebSocket endpoint (stock quotes, option quotes or trade_updates) on the connection
 * kit. The SDK's stream class speaks the protocol (auth frame, subscribe/listen, decode incl.
 * msgpack nanosecond timestamps, typed mapping); this class owns the connection's life on the
 * Clock: a fresh SDK stream per attempt with the SDK's own reconnect and ping OFF, our socket
 * factory (ping/pong and every inbound frame feed the silence watchdog), one reconnect schedule
 * with backoff, and the failure classes users hit:
 *   - 401/402/404 (auth): terminal, one line naming the fix, no retries;
 *   - 406 (connection limit: a second socket, or the old one still lingering on the server):
 *     back off from a longer floor, never a storm;
 *   - HTTP 429 on the upgrade (reconnect storm): wait Retry-After (or the floor), then back off;
 *   - open but silent (no frame, no pong for silenceMs): rebuilt.
 */
import { streaming } from '@alpacahq/alpaca-trade-api';
import { WebSocket } from 'ws';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { EQUAL_JITTER, parseRetryAfter } from '../../core/backoff.js';
import { Generation } from '../kit/generation.js';
import { Reconnector } from '../kit/reconnect.js';
import { Watchdog } from '../kit/watchdog.js';

type SdkStream = streaming.AlpacaWebSocket;
type WsLike = streaming.WebSocketLike;

export type ChannelName = 'stocks' | 'options' | 'trading';
export type ChannelState = 'idle' | 'connecting' | 'ready' | 'backoff' | 'failed' | 'stopped';

/** Codes after which retrying with the same keys cannot help. */
export const AUTH_CODES = new Set([401, 402, 404]);

const CODE_OF_MESSAGE = new Map<string, number>([...streaming.CONN_ERROR].map(([code, msg]) => [msg, code]));

export interface ChannelOptions {
  name: ChannelName;
  url: string;
  clock: Clock;
  silenceMs: number;
  /** ws ping period (default silenceMs / 3). */
  pingMs?: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Minimum wait after a 406 or 429 (the server still holds the old socket / is throttling). */
  limitFloorMs: number;
  random: () => number;
  /** Builds the SDK stream for one attempt over `wsFactory`; listeners it adds are guarded by `live`. */
  build(wsFactory: streaming.WebSocketFactory, live: <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => void): SdkStream;
  /** The stream authenticated: (re)subscribe. */
  onReady(stream: SdkStream): void;
  /** Every inbound frame (for health). */
  onInbound?(): void;
  /** A frame the SDK could not decode or map (counted, skipped). */
  onMalformed?(reason: string): void;
  log(level: 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>): void;
  /** State changes (the stream aggregates its channels). */
  onState(state: ChannelState, reason?: string): void;
  /** Wraps each raw socket (recording). */
  wrapSocket?(ws: WsLike): WsLike;
  /** Opens the raw socket (default `ws`); tests pass a fake to run on a FakeClock. */
  openSocket?(url: string, headers: Record<string, string>): WebSocket;
}

const openWs = (url: string, headers: Record<string, string>) => new WebSocket(url, { perMessageDeflate: false, headers });

export class AlpacaChannel {
  state: ChannelState = 'idle';
  readonly gen = new Generation();
  private readonly reconnector: Reconnector;
  private readonly watchdog: Watchdog;
  private stream: SdkStream | null = null;
  private socket: WebSocket | null = null;
  private pingTimer: TimerHandle | undefined;
  /** Server-side limit seen on this attempt: 406 or 429, and Retry-After if any. */
  private limited: { code: number; retryAfterMs: number | null } | null = null;
  terminal: string | null = null;
  lastError: string | null = null;
  readonly counts = { connects: 0, reconnects: 0, limit406: 0, limit429: 0, silences: 0, pings: 0, frames: 0 };
  private readyWaiters: ((ok: boolean) => void)[] = [];

  constructor(private readonly o: ChannelOptions) {
    this.reconnector = new Reconnector(o.clock, { policy: { baseMs: o.backoffBaseMs, maxMs: o.backoffMaxMs, jitter: EQUAL_JITTER }, random: o.random });
    this.watchdog = new Watchdog(o.clock, {
      boundMs: o.silenceMs - 1,
      tickMs: Math.max(10, Math.floor(o.silenceMs / 3)),
      onSilence: (silent: number) => {
        this.counts.silences++;
        this.lose(`no frame and no pong for ${silent} ms`);
      },
    });
  }

  get current(): SdkStream | null {
    return this.stream;
  }

  /** Resolves true once authenticated, false once terminal or stopped. */
  whenSettled(): Promise<boolean> {
    if (this.state === 'ready') return Promise.resolve(true);
    if (this.state === 'failed' || this.state === 'stopped') return Promise.resolve(false);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.connect();
  }

  stop(): void {
    this.setState('stopped');
    this.gen.next();
    this.reconnector.cancel();
    this.teardown(false);
    this.settle(false);
  }

  private setState(s: ChannelState, reason?: string): void {
    if (this.state === s) return;
    if (this.state === 'stopped' || (this.state === 'failed' && s !== 'stopped')) return;
    this.state = s;
    this.o.onState(s, reason);
  }

  private settle(ok: boolean): void {
    const w = this.readyWaiters;
    this.readyWaiters = [];
    for (const r of w) r(ok);
  }

  private connect(): void {
    if (this.state === 'stopped' || this.state === 'failed') return;
    const gen = this.gen.next();
    this.limited = null;
    this.counts.connects++;
    this.setState('connecting');
    const live = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => {
      if (this.gen.isCurrent(gen)) fn(...a);
    };
    const factory: streaming.WebSocketFactory = (url, codec) => {
      const ws = (this.o.openSocket ?? openWs)(url, { 'Content-Type': codec === 'msgpack' ? 'application/msgpack' : 'application/json' });
      this.socket = ws;
      ws.on('message', live(() => this.inbound()));
      ws.on('pong', live(() => this.inbound()));
      ws.on('open', live(() => this.startPing(ws, gen)));
      ws.on('unexpected-response', (_req, res) => {
        // The upgrade was refused (429 on a reconnect storm, 5xx...): note it, then end the attempt.
        if (this.gen.isCurrent(gen)) {
          if (res.statusCode === 429) {
            this.counts.limit429++;
            this.limited = { code: 429, retryAfterMs: parseRetryAfter(res.headers['retry-after'], this.o.clock.now()) };
          }
          this.lastError = `upgrade refused: HTTP ${res.statusCode}`;
        }
        res.resume();
        ws.terminate();
      });
      ws.on('error', () => {});
      return this.o.wrapSocket ? this.o.wrapSocket(ws as unknown as WsLike) : (ws as unknown as WsLike);
    };
    const stream = this.o.build(factory, live);
    this.stream = stream;
    stream.onError(live((msg: string) => this.onError(String(msg))));
    stream.onDisconnect(live(() => this.lose(this.lastError ?? 'socket closed')));
    stream.onConnect(live(() => this.onAuthenticated(stream)));
    void stream.whenAuthenticated().then(live((r: streaming.StreamAuthResult) => {
      if (!r.authenticated && r.status === streaming.STREAM_AUTH_STATUS.SERVER_REJECTED && (r.code === undefined || AUTH_CODES.has(r.code))) {
        this.fail(r.code, r.message);
      }
    }));
    this.watchdog.start();
    stream.connect();
  }

  private inbound(): void {
    this.counts.frames++;
    this.watchdog.touch();
    this.o.onInbound?.();
  }

  private startPing(ws: WebSocket, gen: number): void {
    this.o.clock.clearInterval(this.pingTimer);
    this.pingTimer = this.o.clock.setInterval(() => {
      if (!this.gen.isCurrent(gen) || ws.readyState !== WebSocket.OPEN) return;
      this.counts.pings++;
      ws.ping();
    }, this.o.pingMs ?? Math.max(10, Math.floor(this.o.silenceMs / 3)));
  }

  private onAuthenticated(stream: SdkStream): void {
    this.reconnector.succeeded();
    this.lastError = null;
    this.setState('ready');
    this.o.onReady(stream);
    this.settle(true);
  }

  private onError(msg: string): void {
    if (/^failed to (decode|process) message/.test(msg)) return this.o.onMalformed?.(msg);
    const code = CODE_OF_MESSAGE.get(msg) ?? Number(/\b(4\d\d)\b/.exec(msg)?.[1] ?? NaN);
    this.lastError = Number.isFinite(code) ? `${code} ${msg}` : msg;
    if (code === 406) {
      this.counts.limit406++;
      this.limited = { code: 406, retryAfterMs: null };
    } else if (code === 429) {
      this.limited ??= { code: 429, retryAfterMs: null };
    } else if (AUTH_CODES.has(code)) {
      // Emitted before the SDK closes the socket: terminal before the close could schedule a retry.
      this.fail(code, msg);
    }
  }

  private fail(code: number | undefined, message: string): void {
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.terminal = `Alpaca ${this.o.name} stream refused the API keys (${code ?? 'auth'} ${message}): check ALPACA_KEY_ID / ALPACA_SECRET_KEY and ALPACA_PAPER (paper keys work only with paper)`;
    this.lastError = this.terminal;
    this.o.log('error', this.terminal);
    this.gen.next();
    this.reconnector.cancel();
    this.teardown(true);
    this.setState('failed', this.terminal);
    this.settle(false);
  }

  /** Tears the attempt down and schedules the next one. Idempotent per attempt. */
  private lose(reason: string): void {
    if (this.state === 'stopped' || this.state === 'failed' || this.reconnector.pending) return;
    this.gen.next();
    this.teardown(true);
    this.counts.reconnects++;
    let delay = this.reconnector.nextDelay();
    const limit = this.limited;
    if (limit) {
      delay = Math.max(delay, limit.retryAfterMs ?? 0, this.o.limitFloorMs);
    }
    this.o.log('warn', `alpaca ${this.o.name}: connection lost, reconnecting`, { reason, delayMs: delay, attempt: this.reconnector.attempt });
    this.setState('backoff', reason);
    this.reconnector.schedule(() => this.connect(), delay);
  }

  private teardown(abrupt: boolean): void {
    this.watchdog.stop();
    this.o.clock.clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    const stream = this.stream;
    const socket = this.socket;
    this.stream = null;
    this.socket = null;
    // A silent socket may never finish a close handshake: cut it (before the SDK tries a close frame).
    if (abrupt) socket?.terminate();
    stream?.disconnect();
  }
}

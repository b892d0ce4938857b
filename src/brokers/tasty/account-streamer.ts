/**
 * Tastytrade account streamer (wss://streamer.tastyworks.com): order fills → `trade` events,
 * position changes → an immediate positions refresh. Optional and isolated: it never rejects
 * the stream's start(), failures are logged once per state change and retried with backoff.
 *
 * We speak the small JSON protocol ourselves with `ws` instead of the SDK's AccountStreamer:
 * the SDK heartbeats with the global setTimeout (not our Clock), logs every message at info,
 * has no reconnect, and throws on a non-JSON frame (see specs/tasty.md).
 *
 * Protocol: client sends {"action":"connect","value":[accounts],"auth-token":…,"request-id":n},
 * then {"action":"heartbeat",…} periodically. The server answers actions with
 * {"status":"ok"|"error","action":…,"request-id":n} and pushes {"type":"Order"|"CurrentPosition"|…,
 * "data":{…kebab-case…}}, sometimes batched as {"results":[…]}.
 */
import WebSocket from 'ws';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { canonicalOcc } from '../../core/contract.js';
import { finiteOrNull, type TradeEvent } from '../../core/types.js';
import { FEED_BACKOFF } from '../../core/backoff.js';
import { Generation } from '../kit/generation.js';
import { Reconnector } from '../kit/reconnect.js';
import { StateMachine } from '../kit/state.js';
import { Watchdog } from '../kit/watchdog.js';
import { BROKER } from './positions.js';
import { errorText } from '../../core/errors.js';

export const ACCOUNT_STREAMER_SOURCE = 'account-streamer';
/** A fill fetched from the order history after a reconnect (trades.source). */
export const ORDERS_REST_SOURCE = 'orders-rest';

// ---- mapping (pure) -------------------------------------------------------------------------

export interface AccountMessageResult {
  trades: TradeEvent[];
  positionsChanged: boolean;
  malformed: string[];
  /** An action reply ({status, action}); null for pushed data. */
  reply: { action: string; ok: boolean; message: string } | null;
}

const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');
const rec = (v: unknown): Record<string, unknown> | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/** "Buy to Open", "Buy to Close", "Buy" → buy; the Sell forms → sell; anything else → null. */
export function sideOf(action: unknown): 'buy' | 'sell' | null {
  const a = str(action).trim().toLowerCase();
  if (a === 'buy' || a.startsWith('buy to ')) return 'buy';
  if (a === 'sell' || a.startsWith('sell to ')) return 'sell';
  return null;
}

/** Splits a text frame into messages ({"results":[…]} batches included). */
export function parseAccountFrame(text: string): { messages: unknown[]; malformed: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { messages: [], malformed: ['account streamer: frame is not JSON'] };
  }
  const r = rec(json);
  if (!r) return { messages: [], malformed: ['account streamer: frame is not an object'] };
  if (Array.isArray(r.results)) return { messages: r.results, malformed: [] };
  return { messages: [r], malformed: [] };
}

/** Order legs' fills → trades. Every fill of every option leg; a fill is its own trade (fill-id). */
export function mapOrder(data: unknown): { trades: TradeEvent[]; malformed: string[] } {
  const trades: TradeEvent[] = [];
  const malformed: string[] = [];
  const order = rec(data);
  if (!order) return { trades, malformed: ['Order without data object'] };
  const account = str(order['account-number']).trim();
  const orderId = str(order.id);
  const legs = order.legs;
  if (!Array.isArray(legs)) return { trades, malformed: [`Order ${orderId}: legs is not a list`] };
  if (!account && legs.some((l) => Array.isArray(rec(l)?.fills) && (rec(l)!.fills as unknown[]).length > 0)) {
    return { trades, malformed: [`Order ${orderId}: fills without account-number`] };
  }
  for (const rawLeg of legs) {
    const leg = rec(rawLeg);
    if (!leg) {
      malformed.push(`Order ${orderId}: leg is not an object`);
      continue;
    }
    const fills = Array.isArray(leg.fills) ? leg.fills : [];
    if (fills.length === 0) continue;
    const symbol = str(leg.symbol);
    const type = str(leg['instrument-type']);
    // Only options are positions we stream greeks for; equity/future fills are not trades here.
    if (type && type !== 'Equity Option' && type !== 'Index Option') continue;
    let contractKey: string;
    try {
      contractKey = canonicalOcc(symbol);
    } catch {
      malformed.push(`Order ${orderId}: leg symbol ${JSON.stringify(symbol)} is not an OCC symbol`);
      continue;
    }
    const side = sideOf(leg.action);
    if (!side) {
      malformed.push(`Order ${orderId}: unknown leg action ${JSON.stringify(str(leg.action))}`);
      continue;
    }
    for (const rawFill of fills) {
      const f = rec(rawFill);
      const tradeId = str(f?.['fill-id']).trim();
      const quantity = finiteOrNull(f?.quantity);
      const price = finiteOrNull(f?.['fill-price']);
      const executedAt = Date.parse(str(f?.['filled-at']));
      if (!f || !tradeId) malformed.push(`Order ${orderId}: fill without fill-id`);
      else if (quantity === null || quantity <= 0) malformed.push(`Order ${orderId} fill ${tradeId}: quantity is not a positive number`);
      else if (price === null || price < 0) malformed.push(`Order ${orderId} fill ${tradeId}: fill-price is not a number`);
      else if (!Number.isFinite(executedAt)) malformed.push(`Order ${orderId} fill ${tradeId}: filled-at is not a time`);
      else trades.push({ kind: 'trade', broker: BROKER, account, tradeId, contractKey, side, quantity, price, executedAt, source: ACCOUNT_STREAMER_SOURCE });
    }
  }
  return { trades, malformed };
}

/** One parsed message → what it means for us. Unknown types (balances, alerts…) mean nothing. */
export function mapAccountMessage(msg: unknown): AccountMessageResult {
  const out: AccountMessageResult = { trades: [], positionsChanged: false, malformed: [], reply: null };
  const m = rec(msg);
  if (!m) {
    out.malformed.push('account streamer: message is not an object');
    return out;
  }
  if (typeof m.action === 'string' && m.status !== undefined) {
    out.reply = { action: m.action, ok: m.status === 'ok', message: str(m.message) };
    return out;
  }
  const type = str(m.type);
  if (type === 'Order') {
    const { trades, malformed } = mapOrder(m.data);
    out.trades = trades;
    out.malformed = malformed;
  } else if (type === 'CurrentPosition') {
    out.positionsChanged = true;
  }
  return out;
}

// ---- connection (side effects) -----------------------------------------------------------

export interface AccountSocket {
  send(text: string): void;
  close(): void;
}
export interface AccountSocketHandlers {
  onOpen(): void;
  onMessage(text: string): void;
  onClose(reason: string): void;
}
export type AccountSocketFactory = (url: string, h: AccountSocketHandlers) => AccountSocket;

export const wsSocketFactory: AccountSocketFactory = (url, h) => {
  const ws = new WebSocket(url);
  let error = '';
  ws.on('open', () => h.onOpen());
  ws.on('message', (data) => h.onMessage(data.toString()));
  ws.on('error', (err) => void (error = err.message));
  ws.on('close', (code) => h.onClose(error || `closed with code ${code}`));
  return {
    send: (text) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(text);
    },
    close: () => ws.terminate(),
  };
};

export interface AccountStreamerOptions {
  url: string;
  accounts: () => string[];
  /** Authorization value for auth-token (OAuth access token), fetched per connection. */
  authToken: () => Promise<string>;
  clock: Clock;
  log: Logger;
  onTrade(e: TradeEvent): void;
  onPositionsChanged(): void;
  onMalformed(reason: string): void;
  /**
   * Fetches fills the streamer may have missed: called after every reconnect (the server sends
   * no replay) with "since" = the newest fill seen (or the first connect) minus CATCH_UP_MARGIN_MS.
   * Duplicates of streamed fills are harmless: trades are unique per (broker, trade_id = fill-id).
   */
  catchUp?(sinceMs: number): Promise<number>;
  /** The real streamer wants a heartbeat well within 60 s. */
  heartbeatMs?: number;
  random?: () => number;
  socket?: AccountSocketFactory;
}

/** Clock skew between the broker's filled-at and ours, and fills in flight at the drop. */
export const CATCH_UP_MARGIN_MS = 60_000;

export type AccountStreamerState = 'idle' | 'connecting' | 'connected' | 'down' | 'stopped';

export class AccountStreamer {
  private readonly st = new StateMachine<AccountStreamerState>('idle');
  private logged: AccountStreamerState = 'idle';
  private socket: AccountSocket | null = null;
  private readonly gen = new Generation();
  private readonly retries: Reconnector;
  /** Silence past three heartbeat periods (a socket that never opens included) replaces the socket. */
  private readonly watchdog: Watchdog;
  private requestId = 0;
  private token = '';
  private heartbeat: TimerHandle | undefined;
  /** The delay of the retry being logged. */
  private retryInMs = 0;
  readonly stats = { connections: 0, messages: 0, trades: 0, heartbeats: 0, catchUps: 0, catchUpTrades: 0, catchUpErrors: 0 };
  /** Newest filled-at seen, and when the first connection was acknowledged: where a catch-up starts. */
  private lastFillAt: number | null = null;
  private firstConnectedAt: number | null = null;
  private readonly heartbeatMs: number;

  constructor(private readonly o: AccountStreamerOptions) {
    this.heartbeatMs = o.heartbeatMs ?? 20_000;
    this.retries = new Reconnector(o.clock, { policy: FEED_BACKOFF, random: o.random });
    this.watchdog = new Watchdog(o.clock, {
      boundMs: 3 * this.heartbeatMs,
      tickMs: this.heartbeatMs,
      onSilence: (silent) => this.retry(`no message for ${Math.round(silent / 1000)} s`),
    });
    this.st.onChange((state, _prev, reason) => this.logChange(state, reason));
  }

  private isStopped(): boolean {
    return this.st.state === 'stopped';
  }

  get currentState(): AccountStreamerState {
    return this.st.state;
  }

  /** Starts connecting in the background; never throws. */
  start(): void {
    if (this.st.state !== 'idle') return;
    void this.connect();
  }

  stop(): void {
    if (this.st.state === 'stopped') return;
    this.st.set('stopped');
    this.retries.cancel();
    this.dropSocket();
  }

  private async connect(): Promise<void> {
    if (this.st.state === 'stopped') return;
    this.st.set('connecting');
    const gen = this.gen.next();
    try {
      this.token = await this.o.authToken();
    } catch (err) {
      if (this.gen.isCurrent(gen)) this.retry(`no access token: ${errorText(err)}`);
      return;
    }
    if (!this.gen.isCurrent(gen) || this.isStopped()) return;
    this.stats.connections++;
    try {
      this.socket = (this.o.socket ?? wsSocketFactory)(this.o.url, {
        onOpen: this.gen.guard(gen, () => this.onOpen()),
        onMessage: this.gen.guard(gen, (t: string) => this.onMessage(t)),
        onClose: this.gen.guard(gen, (reason: string) => this.retry(reason)),
      });
    } catch (err) {
      this.retry(errorText(err));
      return;
    }
    this.watchdog.start();
    // Registered after the watchdog: on a tick that finds silence, the socket goes before a heartbeat.
    this.heartbeat = this.o.clock.setInterval(() => this.beat(), this.heartbeatMs);
  }

  private onOpen(): void {
    const accounts = this.o.accounts();
    this.send({ action: 'connect', value: accounts });
  }

  private beat(): void {
    if (this.st.state === 'connected') {
      this.stats.heartbeats++;
      this.send({ action: 'heartbeat' });
    }
  }

  private send(msg: Record<string, unknown>): void {
    this.socket?.send(JSON.stringify({ ...msg, 'auth-token': this.token, 'request-id': ++this.requestId, source: 'riskwire' }));
  }

  private onMessage(text: string): void {
    this.watchdog.touch();
    this.stats.messages++;
    const { messages, malformed } = parseAccountFrame(text);
    for (const r of malformed) this.o.onMalformed(r);
    let refresh = false;
    for (const msg of messages) {
      const r = mapAccountMessage(msg);
      for (const reason of r.malformed) this.o.onMalformed(reason);
      for (const t of r.trades) {
        this.stats.trades++;
        this.lastFillAt = Math.max(this.lastFillAt ?? t.executedAt, t.executedAt);
        this.o.onTrade(t);
      }
      refresh ||= r.positionsChanged;
      if (r.reply?.action === 'connect') {
        if (r.reply.ok) {
          this.retries.succeeded();
          this.st.set('connected');
          if (this.firstConnectedAt === null) this.firstConnectedAt = this.o.clock.now();
          else this.catchUp();
        } else {
          this.retry(`connect refused: ${r.reply.message || 'no reason given'}`);
          return;
        }
      }
    }
    if (refresh) this.o.onPositionsChanged();
  }

  /** After a reconnect: fills between the drop and now come from REST (the stream has no replay). */
  private catchUp(): void {
    if (!this.o.catchUp) return;
    const since = (this.lastFillAt ?? this.firstConnectedAt ?? this.o.clock.now()) - CATCH_UP_MARGIN_MS;
    this.stats.catchUps++;
    this.o.catchUp(since).then(
      (n) => {
        this.stats.catchUpTrades += n;
        this.o.log.info({ since: new Date(since).toISOString(), fills: n }, 'tasty account streamer: fills since the drop fetched from REST');
      },
      (err: unknown) => {
        this.stats.catchUpErrors++;
        // The next reconnect tries again from the same point (lastFillAt only moves with fills seen).
        if (!this.isStopped()) this.o.log.warn({ err: errorText(err) }, 'tasty account streamer: fill catch-up from REST failed');
      },
    );
  }

  /** Drops the socket and reconnects after a backoff delay (first retry after ~1 s). */
  private retry(reason: string): void {
    if (this.st.state === 'stopped') return;
    this.dropSocket();
    const delay = this.retries.nextDelay();
    this.retryInMs = delay;
    this.st.set('down', reason);
    this.retries.schedule(() => void this.connect(), delay);
  }

  /** Supersedes the current socket: its callbacks and timers end here. */
  private dropSocket(): void {
    this.gen.next();
    this.watchdog.stop();
    this.o.clock.clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    this.socket?.close();
    this.socket = null;
  }

  /** One log line per state change, not per retry of the same failure. */
  private logChange(state: AccountStreamerState, reason?: string): void {
    // 'connecting' between two failures is not news: log only when the logged state changes.
    if (state === 'connecting' || state === this.logged) return;
    this.logged = state;
    if (state === 'down') this.o.log.warn({ reason, retryInMs: this.retryInMs }, 'tasty account streamer down; retrying with backoff');
    else this.o.log.info({ state }, 'tasty account streamer state');
  }
}

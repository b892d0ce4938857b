/**
 * The `tws` transport of the ibkr plugin: TWS / IB Gateway socket through @stoqey/ib.
 *
 * One session = one IBApi instance = one TCP connection. A fresh instance per connection means
 * nothing queued for a dead socket (IBApi buffers calls made while disconnected) leaks into the
 * next one. Per session: connect → nextValidId → reqMarketDataType + reqPositions → positionEnd
 * → one reqMktData per held option contract → greeks/quotes. A lost session reconnects with
 * backoff and every subscription is requested again. Design note: specs/ibkr.md ("Transport tws").
 */
import type { Contract } from '@stoqey/ib';
import { sleep, type TimerHandle } from '../../../core/clock.js';
import type { BrokerEvent, StreamState } from '../../../core/types.js';
import { EQUAL_JITTER, type BackoffPolicy } from '../../../core/backoff.js';
import { Generation } from '../../kit/generation.js';
import { Reconnector } from '../../kit/reconnect.js';
import { StreamReporter } from '../../kit/reporter.js';
import type { BrokerStream, StreamContext, StreamHealth } from '../../types.js';
import type { IbkrConfig } from '../config.js';
import { createIbApi, type TwsApi, type TwsApiFactory } from './api.js';
import { greeksEvent, quoteEvent } from './events.js';
import { Heartbeat } from './heartbeat.js';
import { classifyNotice } from './notices.js';
import { BROKER, mapTwsPosition, type MappedPosition } from './positions.js';
import { LineScheduler } from './lines.js';
import { SubscriptionBook, type Subscription } from './subscriptions.js';
import { cleanComputation, cleanPrice, computationRank, computationSignature, isEmptyComputation, priceField } from './ticks.js';

/** How long stop() keeps reading after cancelling every market data request. */
const STOP_DRAIN_MS = 300;

/**
 * Equal jitter: many clients cut off by the same TWS restart do not come back in lockstep, yet
 * none retries sooner than half the nominal delay.
 */
export const TWS_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000, jitter: EQUAL_JITTER };

export interface TwsStreamOptions {
  createApi?: TwsApiFactory;
  /** Reconnect delays; equal jitter unless the policy names another. */
  backoff?: BackoffPolicy;
  random?: () => number;
  /** Bound for a currentTime reply; default min(heartbeat, 10 s). */
  replyTimeoutMs?: number;
  /** Bound from TCP connect to the first positionEnd; default 20 s. */
  connectTimeoutMs?: number;
  /** After a competing-session notice (10197), how long until subscriptions are tried again. */
  competingRetryMs?: number;
}

type PositionBook = Map<string, Map<string, MappedPosition>>;

interface Session {
  id: number;
  api: TwsApi;
  ready: boolean;
  bootstrapped: boolean;
  managed: string[];
  /** Positions being collected between reqPositions and positionEnd. */
  loading: PositionBook | null;
  /** The socket error behind a close, for the reconnect log line and startup error. */
  socketError: string | null;
}

export function createTwsStream(config: IbkrConfig, ctx: StreamContext, opts: TwsStreamOptions = {}): BrokerStream {
  return new TwsStream(config, ctx, opts);
}

export class TwsStream implements BrokerStream {
  private session: Session | null = null;
  /** One token per session: callbacks of a closed session are ignored. */
  private readonly gen = new Generation();
  private nextReqId = 1;
  private readonly subs = new SubscriptionBook();
  private positions: PositionBook = new Map();
  private stopped = false;
  private readonly reconnect: Reconnector;
  private readonly report: StreamReporter;
  private farmBroken = false;
  private competing = false;
  private readyTimer: TimerHandle | undefined;
  private competingTimer: TimerHandle | undefined;
  private startWaiter: { resolve(): void; reject(err: Error): void } | null = null;
  private readonly heartbeat: Heartbeat;
  private readonly createApi: TwsApiFactory;
  private readonly counts = { duplicates: 0, superseded: 0, stale: 0, empty: 0, resubscribes: 0 };
  private readonly warnedDelayed = new Set<number>();
  /** Market-data lines: at most twsMaxLines open, requests paced, rotation when the book is bigger. */
  private readonly lines: LineScheduler;
  private wanted = new Map<string, MappedPosition>();

  constructor(private readonly config: IbkrConfig, private readonly ctx: StreamContext, private readonly opts: TwsStreamOptions = {}) {
    this.createApi = opts.createApi ?? createIbApi;
    this.reconnect = new Reconnector(ctx.clock, { policy: { jitter: EQUAL_JITTER, ...(opts.backoff ?? TWS_BACKOFF) }, random: opts.random });
    this.report = new StreamReporter({ broker: BROKER, clock: ctx.clock, emit: (e) => this.emit(e) });
    this.report.onState((state, _prev, reason) => {
      if (state === 'degraded' || state === 'disconnected') ctx.log.warn({ state, reason }, 'tws: state');
      else ctx.log.info({ state, reason }, 'tws: state');
    });
    this.lines = new LineScheduler({
      clock: ctx.clock,
      maxLines: config.twsMaxLines ?? 100,
      maxRequestsPerSec: config.twsMaxRequestsPerSec ?? 35,
      maxDwellMs: config.twsLineDwellMs ?? 5_000,
      open: (key) => this.openLine(key),
      close: (key) => this.closeLine(key),
    });
    this.lines.suspend();
    this.heartbeat = new Heartbeat(ctx.clock, {
      intervalMs: config.heartbeatMs,
      replyTimeoutMs: opts.replyTimeoutMs,
      ping: () => this.session?.api.reqCurrentTime(),
      onTimeout: (waited) => {
        this.setState('degraded', `no currentTime reply within ${waited} ms`);
        this.endSession(`heartbeat timeout after ${waited} ms`);
      },
    });
  }

  start(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('TWS stream was stopped'));
    if (this.session || this.startWaiter) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.startWaiter = { resolve, reject };
      this.connect();
    });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.reconnect.cancel();
    for (const t of [this.readyTimer, this.competingTimer]) this.ctx.clock.clearTimeout(t);
    this.heartbeat.stop();
    this.lines.close();
    // Cancel the market data first and keep reading a moment: ticks TWS sent before it saw the
    // cancels are still on the wire and must be stored (their requests stay known until then).
    const session = this.session;
    if (session?.ready && this.subs.size > 0) {
      for (const sub of this.subs.all()) session.api.cancelMktData(sub.reqId);
      await sleep(this.ctx.clock, STOP_DRAIN_MS);
    }
    this.closeSession();
    this.setState('stopped');
    this.startWaiter?.reject(new Error('TWS stream stopped before it was ready'));
    this.startWaiter = null;
  }

  async resubscribe(): Promise<void> {
    if (this.session?.ready) this.resubscribeAll('resubscribe requested', true);
  }

  health(): StreamHealth {
    return this.report.health(this.subs.size, {
      transport: 'tws', host: this.config.twsHost, port: this.config.twsPort, accounts: this.session?.managed ?? [], ...this.counts,
      lines: this.lines.stats(),
    });
  }

  // ---- session lifecycle -------------------------------------------------------------------

  private connect(): void {
    const id = this.gen.next();
    const { twsHost: host, twsPort: port, clientId } = this.config;
    // The library paces every message it sends; leave it headroom above the market-data requests.
    const maxReqPerSec = Math.max(40, (this.config.twsMaxRequestsPerSec ?? 35) + 5);
    const api = this.createApi({ host, port, clientId, maxReqPerSec }, { onDecodeError: (m) => this.malformed(m) });
    const session: Session = { id, api, ready: false, bootstrapped: false, managed: [], loading: null, socketError: null };
    this.session = session;
    // Farm and competing-session trouble belong to the old connection; TWS re-announces what persists.
    this.farmBroken = this.competing = false;
    this.ctx.clock.clearTimeout(this.competingTimer);
    this.setState('connecting');
    const on = (event: string, fn: (...args: any[]) => void) =>
      api.on(event, (...args: any[]) => {
        if (this.gen.isCurrent(id)) fn(...args);
      });
    on('received', () => this.report.inbound());
    on('managedAccounts', (list: string) => (session.managed = String(list ?? '').split(',').map((s) => s.trim()).filter(Boolean)));
    on('nextValidId', () => this.bootstrap(session));
    on('position', (account: string, contract: Contract, pos: number, avgCost?: number) => this.onPosition(session, account, contract, pos, avgCost));
    on('positionEnd', () => this.onPositionEnd(session));
    on('tickOptionComputation', (reqId: number, tickType: number, _attrib: unknown, impliedVol?: number, delta?: number, optPrice?: number, _pvDiv?: number, gamma?: number, vega?: number, theta?: number, undPrice?: number) =>
      this.onComputation(reqId, tickType, { impliedVol, delta, optPrice, gamma, vega, theta, undPrice }));
    on('tickPrice', (reqId: number, tickType: number, price?: number) => this.onPrice(reqId, tickType, price));
    on('currentTime', () => this.heartbeat.ack());
    on('info', (message: string, code: number) => this.onNotice(code, message, -1));
    on('error', (err: Error, code: number, reqId?: number) => this.onNotice(code, err?.message ?? String(err), reqId));
    on('disconnected', () => this.endSession('socket closed'));
    this.readyTimer = this.ctx.clock.setTimeout(() => {
      if (this.session === session && !session.ready) this.endSession(`TWS at ${host}:${port} did not finish the handshake and positions in time`);
    }, this.opts.connectTimeoutMs ?? 20_000);
    this.ctx.log.info({ host, port, clientId, session: id }, 'tws: connecting');
    api.connect();
  }

  /** nextValidId: TWS accepts requests from here on. */
  private bootstrap(session: Session): void {
    if (session.bootstrapped) return; // TWS answers every reqIds with nextValidId too
    session.bootstrapped = true;
    session.api.reqMarketDataType(this.config.marketDataType);
    this.requestPositions(session);
    this.heartbeat.start();
  }

  private requestPositions(session: Session): void {
    session.loading = new Map();
    session.api.reqPositions();
  }

  /** Closes the current session (if any) and schedules the next one. */
  private endSession(reason: string): void {
    const session = this.session;
    if (!session) return;
    const wasReady = session.ready;
    if (session.socketError) reason = `${reason}: ${session.socketError}`;
    this.closeSession();
    this.report.lastError = reason;
    if (this.startWaiter && !wasReady) {
      // The very first connection failed: that is a startup error for the supervisor to report.
      const err = new Error(`cannot stream from TWS at ${this.config.twsHost}:${this.config.twsPort}: ${reason} (is TWS / IB Gateway running with the API enabled?)`);
      this.startWaiter.reject(err);
      this.startWaiter = null;
      this.stopped = true;
      this.setState('stopped', reason);
      return;
    }
    if (this.stopped) return;
    this.setState('disconnected', reason);
    const delay = this.reconnect.nextDelay();
    this.report.reconnects++;
    this.ctx.log.warn({ reason, retryInMs: delay, attempt: this.reconnect.attempt }, 'tws: session lost, reconnecting');
    this.reconnect.schedule(() => {
      if (!this.stopped) this.connect();
    }, delay);
  }

  private closeSession(): void {
    const session = this.session;
    this.session = null;
    this.gen.next();
    this.heartbeat.stop();
    this.ctx.clock.clearTimeout(this.readyTimer);
    this.subs.clear(); // requests die with the socket
    this.lines.suspend();
    if (!session) return;
    session.api.removeAllListeners();
    try {
      session.api.disconnect();
    } catch {
      // already closed: nothing to release
    }
  }

  // ---- positions and subscriptions -----------------------------------------------------------

  private wantedAccount(account: string): boolean {
    return this.config.accounts.length === 0 || this.config.accounts.includes(account);
  }

  private onPosition(session: Session, account: string, contract: Contract, pos: number, avgCost?: number): void {
    if (!this.wantedAccount(account)) return;
    const mapped = mapTwsPosition(account, contract ?? {}, pos, avgCost);
    if (!mapped.ok) return this.malformed(mapped.reason);
    const book = session.loading ?? this.positions;
    const held = book.get(account) ?? new Map<string, MappedPosition>();
    book.set(account, held);
    if (mapped.value.position.quantity === 0) held.delete(mapped.value.position.contractKey);
    else held.set(mapped.value.position.contractKey, mapped.value);
    // After positionEnd TWS streams changes one by one: publish each change as the account's full set.
    if (!session.loading) {
      this.emitPositions(account);
      this.syncSubscriptions(session);
    }
  }

  private onPositionEnd(session: Session): void {
    if (session.loading) {
      const accounts = new Set([...this.positions.keys(), ...session.loading.keys(), ...session.managed.filter((a) => this.wantedAccount(a))]);
      this.positions = session.loading;
      session.loading = null;
      for (const account of accounts) this.emitPositions(account);
    }
    if (!session.ready) {
      session.ready = true;
      this.reconnect.succeeded();
      this.ctx.clock.clearTimeout(this.readyTimer);
      this.ctx.log.info({ accounts: [...this.positions.keys()], contracts: this.wantedContracts().size }, 'tws: positions loaded, streaming');
    }
    this.syncSubscriptions(session);
    if (!this.farmBroken && !this.competing) this.setState('connected');
    this.startWaiter?.resolve();
    this.startWaiter = null;
  }

  private emitPositions(account: string): void {
    const held = this.positions.get(account);
    const positions = held ? [...held.values()].map((m) => m.position) : [];
    this.emit({ kind: 'positions', broker: BROKER, account, at: this.ctx.clock.now(), positions });
  }

  private wantedContracts(): Map<string, MappedPosition> {
    const wanted = new Map<string, MappedPosition>();
    for (const held of this.positions.values()) for (const [key, m] of held) if (m.marketData) wanted.set(key, m);
    return wanted;
  }

  /**
   * Makes the live requests match the held option contracts: the line scheduler hands out
   * lines (one reqMktData per contract while the book fits, rotation past the allowance).
   */
  private syncSubscriptions(session: Session): void {
    if (!session.ready || this.session !== session) return;
    this.wanted = this.wantedContracts();
    this.lines.setContracts(this.wanted.keys());
    this.lines.resume();
  }

  private openLine(key: string): void {
    const session = this.session;
    const m = this.wanted.get(key);
    if (!session?.ready || !m?.marketData || this.subs.byContract(key)) return;
    const reqId = this.nextReqId++;
    this.subs.add(reqId, key, m.position.underlying, m.marketData);
    session.api.reqMktData(reqId, m.marketData, '', false, false);
  }

  private closeLine(key: string): void {
    const sub = this.subs.remove(key);
    if (sub) this.session?.api.cancelMktData(sub.reqId);
  }

  /** Cancels and re-sends every market-data request (and, when data was lost, the positions request). */
  private resubscribeAll(reason: string, positionsToo: boolean): void {
    const session = this.session;
    if (!session?.ready) return;
    this.ctx.log.info({ reason, subscriptions: this.subs.size, positions: positionsToo }, 'tws: resubscribing');
    session.api.reqMarketDataType(this.config.marketDataType);
    this.rerequest(session, this.subs.all());
    if (positionsToo) {
      session.api.cancelPositions();
      this.requestPositions(session);
    }
  }

  /** New request ids for `subs` (paced by the line scheduler): ticks still in flight for the old ids are then recognisably stale. */
  private rerequest(_session: Session, subs: Subscription[]): void {
    this.counts.resubscribes++;
    this.lines.requeue(subs.map((s) => s.contractKey));
  }

  // ---- ticks ---------------------------------------------------------------------------------

  private onComputation(reqId: number, tickType: number, raw: Parameters<typeof cleanComputation>[0]): void {
    const now = this.ctx.clock.now();
    const sub = this.subs.byRequest(reqId);
    if (!sub) return void this.counts.stale++; // a tick for a request we already cancelled
    const rank = computationRank(tickType);
    if (rank === null) return this.malformed(`tickOptionComputation: unknown tick type ${tickType}`);
    const c = cleanComputation(raw);
    if (!c.ok) return this.malformed(c.reason);
    if (isEmptyComputation(c.value)) return void this.counts.empty++;
    if (rank < sub.bestRank) return void this.counts.superseded++;
    sub.bestRank = rank;
    const stamp = this.subs.stamp(sub.contractKey, computationSignature(tickType, c.value), now);
    if (stamp.duplicate) this.counts.duplicates++;
    this.report.data(now);
    this.dataFlowing();
    // Duplicates are emitted with the previous (eventTs, seq): the processor drops and counts them.
    this.emit(greeksEvent(sub, c.value, rank, stamp, now));
    this.lines.gotGreeks(sub.contractKey);
  }

  private onPrice(reqId: number, tickType: number, price?: number): void {
    const sub = this.subs.byRequest(reqId);
    if (!sub) return void this.counts.stale++;
    const field = priceField(tickType);
    if (!field) return;
    const p = cleanPrice(price);
    if (!p.ok) return this.malformed(p.reason);
    const now = this.ctx.clock.now();
    sub.quote[field] = p.value;
    this.report.data(now);
    this.dataFlowing();
    this.emit(quoteEvent(sub, now));
  }

  /** Data after a competing-session notice means the other session is gone. */
  private dataFlowing(): void {
    if (this.competing) {
      this.competing = false;
      this.ctx.clock.clearTimeout(this.competingTimer);
      if (!this.farmBroken) this.setState('connected', 'market data flowing again');
    }
  }

  // ---- notices -------------------------------------------------------------------------------

  private onNotice(code: number, message: string, reqId: number | undefined): void {
    // 101 max tickers / 100 pacing: the request never became a line.
    const lineSub = (Number(code) === 101 || Number(code) === 100) && reqId !== undefined ? this.subs.byRequest(reqId) : undefined;
    if (lineSub) {
      this.subs.remove(lineSub.contractKey);
      this.report.lastError = `${code} ${message}`;
      this.ctx.log.warn({ code, contractKey: lineSub.contractKey, lines: this.lines.stats().openLines }, Number(code) === 101 ? 'tws: market data line refused (101): fewer lines than configured' : 'tws: request paced out (100)');
      return Number(code) === 101 ? this.lines.refusedLine(lineSub.contractKey) : this.lines.failedLine(lineSub.contractKey);
    }
    const action = classifyNotice(Number(code), message, reqId);
    const log = this.ctx.log;
    switch (action.kind) {
      case 'degraded':
        return this.setState('degraded', action.reason);
      case 'restored-resubscribe':
        this.setState('connected', action.reason);
        return this.resubscribeAll(action.reason, true);
      case 'restored':
        return this.setState(this.farmBroken || this.competing ? 'degraded' : 'connected', action.reason);
      case 'farm-broken':
        this.farmBroken = true;
        return this.setState('degraded', action.reason);
      case 'farm-ok':
        if (!this.farmBroken) return void log.debug({ code }, 'tws: market data farm ok');
        this.farmBroken = false;
        this.resubscribeAll(action.reason, false);
        if (!this.competing) this.setState('connected', action.reason);
        return;
      case 'competing': {
        const sub = reqId === undefined ? undefined : this.subs.byRequest(reqId);
        if (sub) sub.silenced = true;
        if (!this.competing) this.onCompeting(action.reason);
        return;
      }
      case 'delayed-data':
        if (reqId !== undefined && !this.warnedDelayed.has(reqId)) {
          this.warnedDelayed.add(reqId);
          log.warn({ reqId, code }, 'tws: no live market data subscription, TWS sends delayed data');
        }
        return;
      case 'not-subscribed':
        return this.onNotSubscribed(reqId, action.reason);
      case 'malformed':
        return this.malformed(action.reason);
      case 'connection-error':
        this.report.lastError = action.reason;
        if (this.session) this.session.socketError = action.reason;
        return void log.warn({ code }, `tws: ${action.reason}`);
      case 'fatal-session':
        log.error({ code }, `tws: ${action.reason}`);
        return this.endSession(action.reason);
      case 'request-error':
        this.report.lastError = action.reason;
        return void log.warn({ code, reqId, contractKey: this.subs.byRequest(reqId ?? -1)?.contractKey }, `tws: request failed: ${action.reason}`);
      case 'info':
        return void log.debug({ code }, `tws: ${action.reason}`);
    }
  }

  private onCompeting(reason: string): void {
    this.competing = true;
    this.report.lastError = reason;
    this.setState('degraded', reason);
    // TWS never says when the other session is gone: ask again for the silenced requests, until data flows.
    const retry = () => {
      const session = this.session;
      if (!this.competing || this.stopped || !session?.ready) return;
      const silenced = this.subs.all().filter((s) => s.silenced);
      if (silenced.length) {
        this.ctx.log.info({ subscriptions: silenced.length }, 'tws: retrying after competing session');
        this.rerequest(session, silenced);
      }
      this.competingTimer = this.ctx.clock.setTimeout(retry, this.opts.competingRetryMs ?? 60_000);
    };
    this.competingTimer = this.ctx.clock.setTimeout(retry, this.opts.competingRetryMs ?? 60_000);
  }

  /** 354: no live permission. Fall back once per contract to delayed data rather than stay silent. */
  private onNotSubscribed(reqId: number | undefined, reason: string): void {
    this.report.lastError = reason;
    const sub = reqId === undefined ? undefined : this.subs.byRequest(reqId);
    const session = this.session;
    if (!sub || !session || sub.delayedFallback || this.config.marketDataType >= 3) {
      this.ctx.log.warn({ reqId, contractKey: sub?.contractKey }, `tws: ${reason}`);
      return;
    }
    sub.delayedFallback = true;
    this.ctx.log.warn({ contractKey: sub.contractKey }, 'tws: no live data permission, falling back to delayed data');
    session.api.reqMarketDataType(this.config.marketDataType === 1 ? 3 : 4);
    session.api.reqMktData(sub.reqId, sub.contract, '', false, false);
  }

  // ---- edges ---------------------------------------------------------------------------------

  private malformed(reason: string): void {
    this.report.malformed(reason);
  }

  private setState(state: StreamState, reason?: string): void {
    this.report.setState(state, reason);
  }

  private emit(event: BrokerEvent): void {
    this.ctx.emit(event);
  }
}

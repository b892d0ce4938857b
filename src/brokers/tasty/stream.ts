/**
 * The tasty stream: REST control plane + one DXLink feed, kept alive.
 *  - start: accounts → positions (a `positions` event per account) → quote token → feed.
 *  - watchdog: no inbound message (KEEPALIVE counts) for keepaliveTimeoutMs → degraded, rebuild.
 *  - a client that gave up, a closed channel or a rejected token → rebuild with a fresh token,
 *    with backoff between failed attempts.
 *  - quote token rotation before expiry: re-AUTH on the live connection.
 *  - position poll: new contracts subscribed, closed ones unsubscribed.
 * Every timer goes through ctx.clock.
 */
import { systemRandom, type TimerHandle } from '../../core/clock.js';
import type { BrokerEvent, StreamState } from '../../core/types.js';
import { FEED_BACKOFF } from '../../core/backoff.js';
import { Reconnector } from '../kit/reconnect.js';
import { StreamReporter } from '../kit/reporter.js';
import { Watchdog } from '../kit/watchdog.js';
import type { BrokerStream, StreamContext, StreamHealth } from '../types.js';
import { AccountStreamer, mapOrder, ORDERS_REST_SOURCE, type AccountStreamerOptions } from './account-streamer.js';
import type { TastyConfig } from './config.js';
import { connectDxLink, type AuthState, type ConnState, type FeedConnection, type FeedConnector } from './dxlink.js';
import { lacksTime, mapEvent, TimelessGreeks } from './events.js';
import { decodeFeedData, FeedSchema, parseFrame } from './feed-data.js';
import { metricsSymbols, METRICS_BATCH, parseMarketMetrics } from './metrics.js';
import { accountNumbersOf, BROKER, futuresToResolve, mapPositions, parseFutureInstrument, resolveFutures, type FutureInstrument, type TastyPosition } from './positions.js';
import { createTastyRest, TastyRestError, type QuoteToken, type TastyRest } from './rest.js';
import { desiredSubscriptions, diffSubscriptions, subKey, type Sub } from './subscriptions.js';
import { errorText } from '../../core/errors.js';
import { occToStreamer } from './symbols.js';
import type { WatchSymbol } from '../../quotes/symbols.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

export interface TastyStreamDeps {
  rest?: TastyRest;
  connect?: FeedConnector;
  random?: () => number;
  /** For tests: builds the account streamer (default: the real one over `ws`). */
  accountStreamer?: (opts: AccountStreamerOptions) => AccountStreamer;
}

/** When to fetch a new quote token: an hour before expiry, or at 3/4 of a short lifetime. */
export function rotationDelay(ttlMs: number): number {
  const ttl = Math.max(60_000, Math.min(ttlMs, DAY));
  return ttl > 2 * HOUR ? ttl - HOUR : Math.floor(ttl * 0.75);
}

function positionsSignature(list: TastyPosition[]): string {
  return list
    // Futures also by their streamer symbol: one resolved on a later refresh must be taken up.
    .map(({ position: p, future, streamerSymbol }) => `${p.contractKey}|${p.quantity}|${p.multiplier}|${p.avgPrice}${future ? `|${streamerSymbol}` : ''}`)
    .sort()
    .join('\n');
}

export class TastyStream implements BrokerStream {
  private readonly rest: TastyRest;
  private readonly connect: FeedConnector;
  private readonly random: () => number;
  private readonly makeAccountStreamer: (opts: AccountStreamerOptions) => AccountStreamer;
  private account: AccountStreamer | null = null;
  /** Refreshes asked for by the account streamer: one at a time, bursts coalesced into one more. */
  private pushRefresh: 'idle' | 'running' | 'again' = 'idle';
  private readonly report: StreamReporter;
  /** The first rebuild after a healthy connection goes at once; repeats back off. */
  private readonly rebuilds: Reconnector;
  /** No inbound message (KEEPALIVE counts) past keepaliveTimeoutMs → rebuild; also the authorization deadline. */
  private readonly liveness: Watchdog;

  private accounts: string[] = [];
  private positions = new Map<string, TastyPosition[]>();
  private positionSigs = new Map<string, string>();
  /** Option streamer symbol → the contract subscribed for it. */
  private bySymbol = new Map<string, { contractKey: string; underlying: string }>();
  private subs = new Map<string, Sub>();
  /** What the positions alone want subscribed; `subs` = this plus the watchlist's. */
  private positionSubs = new Map<string, Sub>();
  /** The watchlist (specs/quotes.md): its subscriptions, and streamer symbols that are not the key itself (futures). */
  private watch: WatchSymbol[] = [];
  private watchSubs = new Map<string, Sub>();
  private watchKeys = new Map<string, { contractKey: string; underlying: string }>();
  private watchUnresolved: string[] = [];

  private conn: FeedConnection | null = null;
  private schema = new FeedSchema();
  private timeless = new TimelessGreeks();
  private token: QuoteToken | null = null;
  private tokenExpiresAt: number | null = null;
  private tokens = 0;
  /** Per socket: the first AUTH_STATE after SETUP is the server's greeting, not a verdict on our token. */
  private awaitingGreeting = true;
  /** Since when the connection has been trying to become CONNECTED (authorized); null when it is. */
  private connectingSince: number | null = null;
  private everConnected = false;

  private stopped = false;
  private rebuilding = false;
  private skipped = 0;
  private inbound = 0;
  private timers: Partial<Record<'poll' | 'rotate' | 'metrics', TimerHandle>> = {};
  /** /instruments/futures answers by future key (`/ESH7`), cached for the session. */
  private futureInstruments = new Map<string, FutureInstrument>();
  private metricsPolls = 0;
  private metricsRows = 0;

  constructor(
    private readonly config: TastyConfig,
    private readonly ctx: StreamContext,
    deps: TastyStreamDeps = {},
  ) {
    this.rest = deps.rest ?? createTastyRest(config, ctx.log, ctx.clock);
    this.connect = deps.connect ?? connectDxLink;
    this.random = deps.random ?? systemRandom;
    this.makeAccountStreamer = deps.accountStreamer ?? ((o) => new AccountStreamer(o));
    this.report = new StreamReporter({ broker: BROKER, clock: ctx.clock, emit: (e) => this.emit(e) });
    this.report.onState((state, _prev, reason) => ctx.log.info({ state, reason }, 'tasty stream state'));
    this.rebuilds = new Reconnector(ctx.clock, { policy: FEED_BACKOFF, random: this.random, immediateFirst: true });
    this.liveness = new Watchdog(ctx.clock, {
      boundMs: config.keepaliveTimeoutMs,
      tickMs: Math.max(250, Math.min(5_000, Math.floor(config.keepaliveTimeoutMs / 4))),
      onSilence: (silent) => this.watching() && this.scheduleRebuild(`no message from DXLink for ${Math.round(silent / 1000)} s`),
      onCheck: () => this.watching() && this.checkAuthorized(),
    });
  }

  async start(): Promise<void> {
    this.emit({ kind: 'state', broker: BROKER, at: this.ctx.clock.now(), state: 'starting' });
    try {
      this.accounts = this.config.accounts.length > 0 ? [...this.config.accounts] : accountNumbersOf(await this.rest.accountNumbers());
      if (this.accounts.length === 0) throw new TastyRestError('the Tastytrade login has no accounts: set TASTY_ACCOUNTS or check the login', 'bad-response');
      await this.refreshPositions();
      if (this.stopped) return;
      await this.openFeed(await this.rest.quoteToken());
    } catch (err) {
      const msg = errorText(err);
      this.report.lastError = msg;
      await this.stop();
      throw err instanceof TastyRestError ? err : new Error(msg);
    }
    if (this.stopped) return;
    this.liveness.start();
    this.schedulePoll();
    this.startMetrics();
    this.startAccountStreamer();
    this.ctx.log.info({ accounts: this.accounts.length, subscriptions: this.subs.size }, 'tasty stream started');
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of Object.values(this.timers)) this.ctx.clock.clearTimeout(t);
    this.liveness.stop();
    this.rebuilds.cancel();
    this.timers = {};
    this.account?.stop();
    this.rest.close();
    // Let the server finish: every event it sent before our CHANNEL_CANCEL is still decoded.
    const c = this.conn;
    if (c?.drainAndClose) await c.drainAndClose(1000);
    this.closeConn();
    this.setState('stopped');
  }

  async resubscribe(): Promise<void> {
    await this.refreshPositions();
    this.conn?.replaceAll([...this.subs.values()]);
  }

  health(): StreamHealth {
    const rest = this.rest.stats();
    return this.report.health(this.subs.size, {
        accounts: [...this.accounts],
        quoteTokens: this.tokens,
        tokenExpiresAt: this.tokenExpiresAt,
        dxlinkUrl: this.token?.dxlinkUrl ?? null,
        restRequests: rest.requests,
        restRetries: rest.retries,
        restWaitingUntil: rest.waitingUntil,
        skippedEvents: this.skipped,
        inboundMessages: this.inbound,
        connection: this.conn?.connectionState() ?? 'NOT_CONNECTED',
        subscriptionsPending: this.conn?.subscriptionStats?.().pending ?? 0,
        subscriptionMessages: this.conn?.subscriptionStats?.().batches ?? 0,
        accountStreamer: this.account ? { state: this.account.currentState, ...this.account.stats } : null,
        marketMetrics: { polls: this.metricsPolls, rows: this.metricsRows },
        watchlist: { symbols: this.watch.length, subscriptions: this.watchSubs.size, unresolved: [...this.watchUnresolved] },
    });
  }

  // ---- positions ------------------------------------------------------------------------

  /** Re-reads every account; emits `positions` for accounts that changed; syncs subscriptions. */
  private async refreshPositions(): Promise<void> {
    for (const account of this.accounts) {
      const mapped = mapPositions(account, await this.rest.positions(account));
      const { positions, skipped } = mapped.positions.some((p) => p.future) ? await this.withFutures(mapped.positions, mapped.skipped) : mapped;
      for (const reason of skipped) this.malformed(`REST ${reason}`);
      if (this.stopped) return;
      const sig = positionsSignature(positions);
      if (this.positionSigs.get(account) === sig) continue;
      this.positionSigs.set(account, sig);
      this.positions.set(account, positions);
      this.emit({ kind: 'positions', broker: BROKER, account, at: this.ctx.clock.now(), positions: positions.map((p) => p.position) });
    }
    const all = [...this.positions.values()].flat();
    this.bySymbol = new Map(
      all.filter((p) => p.streamerSymbol && p.position.assetClass === 'option').map((p) => [p.streamerSymbol!, { contractKey: p.position.contractKey, underlying: p.position.underlying }]),
    );
    // Futures stream under DXLink symbols (/ESH27:XCME) that are not their keys (/ESH7).
    for (const p of all) {
      if (p.position.assetClass === 'future' && p.streamerSymbol) this.bySymbol.set(p.streamerSymbol, { contractKey: p.position.contractKey, underlying: p.position.underlying });
      if (p.underlyingStreamer && !this.bySymbol.has(p.underlyingStreamer)) this.bySymbol.set(p.underlyingStreamer, { contractKey: p.position.underlying, underlying: p.position.underlying });
    }
    this.positionSubs = desiredSubscriptions(all);
    this.applySubscriptions();
  }

  /** Subscriptions = positions' ∪ watchlist's; sends the difference to the live connection. */
  private applySubscriptions(): void {
    const next = new Map([...this.positionSubs, ...this.watchSubs]);
    const { add, remove } = diffSubscriptions(this.subs, next);
    this.subs = next;
    if (add.length || remove.length) {
      this.ctx.log.info({ add: add.length, remove: remove.length, total: next.size }, 'tasty subscriptions changed');
      this.conn?.remove(remove);
      this.conn?.add(add);
    }
  }

  /** Resolves futures and FOP positions through /instruments/futures (cached per future). */
  private async withFutures(positions: TastyPosition[], skipped: string[]): Promise<{ positions: TastyPosition[]; skipped: string[] }> {
    const missing = futuresToResolve(positions).filter((f) => !this.futureInstruments.has(f));
    if (missing.length > 0 && this.rest.futures) {
      try {
        for (const item of await this.rest.futures(missing)) {
          const inst = parseFutureInstrument(item);
          if (inst) this.futureInstruments.set(inst.symbol, inst);
        }
      } catch (err) {
        // Positions still count (with their own multipliers); their streamer symbols wait for the next refresh.
        if (this.stopped) throw err;
        this.ctx.log.warn({ futures: missing, err: (err as Error).message }, 'tasty /instruments/futures failed; futures not streamed until the next refresh');
      }
    }
    const r = resolveFutures(positions, this.futureInstruments);
    return { positions: r.positions, skipped: [...skipped, ...r.skipped] };
  }

  // ---- market metrics (IV rank/percentile, IV30, HV30/60/90, beta) ------------------------

  /** Held underlyings and (when the stream has a watchlist) watched ones, as metrics symbols. */
  metricsSymbols(): string[] {
    const held = [...this.positions.values()].flat().map((p) => p.position.underlying);
    // The watchlist (specs/quotes.md) lives on this class when present; read it without depending on it.
    const watch = (this as unknown as { watch?: { symbol: string; underlying?: string }[] }).watch ?? [];
    return metricsSymbols([...held, ...watch.map((w) => w.underlying || w.symbol)]);
  }

  /** One poll: every symbol in batches; emits a `metrics` event per batch. Returns the rows emitted. */
  async pollMetrics(): Promise<number> {
    const fetch = this.rest.marketMetrics?.bind(this.rest);
    if (!fetch) return 0;
    const symbols = this.metricsSymbols();
    let rows = 0;
    for (let i = 0; i < symbols.length && !this.stopped; i += METRICS_BATCH) {
      const at = this.ctx.clock.now();
      const { metrics, malformed } = parseMarketMetrics(await fetch(symbols.slice(i, i + METRICS_BATCH)), at);
      for (let k = 0; k < malformed; k++) this.malformed('market-metrics item without symbol');
      if (this.stopped) break;
      if (metrics.length > 0) this.emit({ kind: 'metrics', broker: BROKER, at, metrics });
      rows += metrics.length;
    }
    this.metricsPolls++;
    this.metricsRows += rows;
    return rows;
  }

  /** First poll at once, then every marketMetricsPollMs; a failure waits for the next one. */
  private startMetrics(): void {
    const every = this.config.marketMetricsPollMs ?? 0;
    if (every <= 0 || !this.rest.marketMetrics) return;
    const run = async () => {
      try {
        const rows = await this.pollMetrics();
        this.ctx.log.debug({ rows }, 'tasty market metrics refreshed');
      } catch (err) {
        if (!this.stopped) this.ctx.log.warn({ err: (err as Error).message }, 'tasty market-metrics poll failed; next poll will retry');
      }
      if (!this.stopped) this.timers.metrics = this.ctx.clock.setTimeout(() => void run(), every);
    };
    void run();
  }

  // ---- watchlist --------------------------------------------------------------------------

  /**
   * Quote for every watched symbol, Greeks too for options; futures and futures options are
   * looked up for their DXLink symbol (an unknown one is reported in health, not subscribed).
   */
  async setWatchlist(symbols: WatchSymbol[]): Promise<void> {
    this.watch = [...symbols];
    const subs = new Map<string, Sub>();
    const keys = new Map<string, { contractKey: string; underlying: string }>();
    const unresolved: string[] = [];
    const add = (sub: Sub) => subs.set(subKey(sub), sub);
    for (const w of this.watch) {
      let streamer: string | null = w.symbol;
      if (w.kind === 'option') streamer = occToStreamer(w.symbol);
      else if (w.kind === 'future' || w.kind === 'future_option') {
        streamer = this.watchKeys.has(w.symbol) ? w.symbol : [...this.watchKeys].find(([, v]) => v.contractKey === w.symbol)?.[0] ?? null;
        if (!streamer) {
          try {
            streamer = (await this.rest.streamerSymbolOf?.(w.kind, w.symbol)) ?? null;
          } catch (err) {
            this.ctx.log.warn({ symbol: w.symbol, err: (err as Error).message }, 'tasty: could not look up a watched future');
            streamer = null;
          }
        }
        if (streamer) keys.set(streamer, { contractKey: w.symbol, underlying: w.underlying });
      }
      if (!streamer) {
        unresolved.push(w.symbol);
        continue;
      }
      add({ type: 'Quote', symbol: streamer });
      if (w.kind === 'option' || w.kind === 'future_option') add({ type: 'Greeks', symbol: streamer });
    }
    if (unresolved.length > 0) this.ctx.log.warn({ unresolved }, 'tasty: watched symbols without a DXLink symbol are not streamed');
    this.watchSubs = subs;
    this.watchKeys = keys;
    this.watchUnresolved = unresolved;
    this.ctx.log.info({ symbols: this.watch.length, subscriptions: subs.size }, 'tasty watchlist set');
    if (!this.stopped) this.applySubscriptions();
  }

  // ---- account streamer (optional: fills → trades, position changes → refresh now) ---------

  private startAccountStreamer(): void {
    const url = this.config.accountStreamerUrl;
    const accessToken = this.rest.accessToken?.bind(this.rest);
    if (!url || !accessToken) return;
    this.account = this.makeAccountStreamer({
      url,
      accounts: () => [...this.accounts],
      authToken: accessToken,
      clock: this.ctx.clock,
      log: this.ctx.log,
      random: this.random,
      onTrade: (t) => this.emit(t),
      onPositionsChanged: () => this.refreshNow(),
      onMalformed: (reason) => this.malformed(reason),
      catchUp: (since) => this.catchUpFills(since),
    });
    this.account.start();
  }

  /**
   * Fills since `sinceMs` from the order history of every account, as trade events (the same
   * trade ids as the streamer's, so a fill seen both ways is stored once). Positions are
   * refreshed too: a CurrentPosition push may have been missed as well.
   */
  private async catchUpFills(sinceMs: number): Promise<number> {
    const orders = this.rest.orders?.bind(this.rest);
    if (!orders) return 0;
    let n = 0;
    for (const account of this.accounts) {
      for (const order of await orders(account, sinceMs)) {
        const { trades, malformed } = mapOrder(order);
        for (const reason of malformed) this.malformed(reason);
        for (const t of trades) {
          if (t.executedAt < sinceMs || this.stopped) continue;
          n++;
          this.emit({ ...t, source: ORDERS_REST_SOURCE });
        }
      }
    }
    this.refreshNow();
    return n;
  }

  /** The poll's refresh, run at once; a failure waits for the next poll or push. */
  private refreshNow(): void {
    if (this.stopped) return;
    if (this.pushRefresh !== 'idle') {
      this.pushRefresh = 'again';
      return;
    }
    this.pushRefresh = 'running';
    this.refreshPositions()
      .catch((err) => {
        if (!this.stopped) this.ctx.log.warn({ err: errorText(err) }, 'tasty positions refresh (account streamer) failed');
      })
      .finally(() => {
        const again = this.pushRefresh === 'again';
        this.pushRefresh = 'idle';
        if (again) this.refreshNow();
      });
  }

  private schedulePoll(): void {
    if (this.stopped) return;
    this.timers.poll = this.ctx.clock.setTimeout(async () => {
      try {
        await this.refreshPositions();
      } catch (err) {
        if (this.stopped) return;
        this.report.lastError = errorText(err);
        this.ctx.log.warn({ err: errorText(err) }, 'tasty position poll failed; next poll will retry');
      }
      this.schedulePoll();
    }, this.config.positionsPollMs);
  }

  // ---- feed lifecycle -------------------------------------------------------------------

  private async openFeed(token: QuoteToken): Promise<void> {
    // stop() may have come while the token was on its way: never open a socket after it.
    if (this.stopped) return;
    this.acceptToken(token);
    this.schema = new FeedSchema();
    this.awaitingGreeting = true;
    this.liveness.touch();
    this.connectingSince = this.ctx.clock.now();
    this.setState('connecting');
    this.conn = this.connect(token.dxlinkUrl, token.token, {
      onFrame: (text) => this.onFrame(text),
      onConnectionState: (s, p) => this.onConnectionState(s, p),
      onAuthState: (s, p) => this.onAuthState(s, p),
      onError: (type, message) => this.onError(type, message),
      onChannelClosed: () => this.scheduleRebuild('server closed the FEED channel'),
    }, { aggregationPeriod: this.config.aggregationPeriod, subscriptionChunk: this.config.subscriptionChunk, subscriptionPaceMs: this.config.subscriptionPaceMs, clock: this.ctx.clock });
    this.conn.add([...this.subs.values()]);
  }

  private acceptToken(token: QuoteToken): void {
    this.token = token;
    this.tokens++;
    // The expiry is wall-clock; ctx.clock is the wall clock live and the recorded one in replay.
    const ttl = token.expiresAt !== null ? token.expiresAt - this.ctx.clock.now() : DAY;
    this.tokenExpiresAt = this.ctx.clock.now() + ttl;
    this.ctx.clock.clearTimeout(this.timers.rotate);
    this.timers.rotate = this.ctx.clock.setTimeout(() => void this.rotateToken(), rotationDelay(ttl));
  }

  private async rotateToken(): Promise<void> {
    if (this.stopped) return;
    try {
      const token = await this.rest.quoteToken();
      if (this.stopped) return;
      if (this.conn && this.conn.connectionState() === 'CONNECTED' && this.conn.authState() === 'AUTHORIZED') {
        this.acceptToken(token);
        this.conn.setToken(token.token);
        this.ctx.log.info('tasty quote token rotated (re-authenticated live connection)');
      } else {
        this.scheduleRebuild('quote token rotation while not connected');
      }
    } catch (err) {
      if (this.stopped) return;
      this.report.lastError = errorText(err);
      this.ctx.log.warn({ err: errorText(err) }, 'tasty quote token rotation failed; retrying in 1 min');
      this.timers.rotate = this.ctx.clock.setTimeout(() => void this.rotateToken(), 60_000);
    }
  }

  private closeConn(): void {
    const c = this.conn;
    this.conn = null;
    c?.close();
  }

  /** Replaces the connection (fresh token, new client, every subscription), with backoff on repeats. */
  private scheduleRebuild(reason: string): void {
    if (this.stopped || this.rebuilding || this.rebuilds.pending) return;
    this.ctx.log.warn({ reason, attempt: this.rebuilds.attempt + 1 }, 'tasty feed rebuild');
    this.report.lastError = reason;
    this.closeConn();
    this.setState(this.everConnected ? 'degraded' : 'connecting', reason);
    const delay = this.rebuilds.nextDelay();
    if (delay === 0) void this.rebuild();
    else this.rebuilds.schedule(() => void this.rebuild(), delay);
  }

  private async rebuild(): Promise<void> {
    if (this.stopped) return;
    this.rebuilding = true;
    this.report.reconnects++;
    try {
      // A reconnect is a good moment to re-read positions; a failure here must not block the feed.
      await this.refreshPositions().catch((err) => this.ctx.log.warn({ err: errorText(err) }, 'tasty positions re-read failed'));
      if (this.stopped) return;
      const token = await this.rest.quoteToken();
      if (this.stopped) return;
      await this.openFeed(token);
    } catch (err) {
      this.rebuilding = false;
      if (this.stopped) return;
      this.report.lastError = errorText(err);
      this.ctx.log.warn({ err: errorText(err) }, 'tasty feed rebuild failed');
      this.scheduleRebuild('rebuild failed');
      return;
    }
    this.rebuilding = false;
  }

  /** The watchdog acts only on a live, settled connection. */
  private watching(): boolean {
    return !this.stopped && this.conn !== null && !this.rebuilding;
  }

  /** Keepalives can flow on a socket that never gets authorized (a rejection the client missed). */
  private checkAuthorized(): void {
    const now = this.ctx.clock.now();
    if (this.connectingSince !== null && now - this.connectingSince > this.config.keepaliveTimeoutMs) {
      this.scheduleRebuild(`DXLink not authorized after ${Math.round((now - this.connectingSince) / 1000)} s`);
    }
  }

  // ---- SDK callbacks --------------------------------------------------------------------

  private onConnectionState(state: ConnState, prev: ConnState): void {
    if (state === 'CONNECTED') {
      this.connectingSince = null;
      this.everConnected = true;
      this.rebuilds.succeeded();
      this.setState('connected');
    } else if (state === 'CONNECTING' && prev === 'CONNECTED') {
      // The SDK reconnects by itself and replays the subscriptions.
      this.report.reconnects++;
      this.awaitingGreeting = true;
      this.connectingSince = this.ctx.clock.now();
      this.setState('disconnected', 'connection lost; SDK reconnecting');
    } else if (state === 'NOT_CONNECTED') {
      this.scheduleRebuild('DXLink client gave up');
    }
  }

  private onAuthState(state: AuthState, _prev: AuthState): void {
    if (state === 'AUTHORIZED') this.ctx.log.debug('tasty DXLink authorized');
  }

  private onError(type: string, message: string): void {
    this.ctx.log.warn({ type, message }, 'tasty DXLink error');
    this.report.lastError = `${type}: ${message}`;
    if (type === 'UNAUTHORIZED') this.scheduleRebuild('quote token rejected (ERROR UNAUTHORIZED)');
  }

  private onFrame(text: string): boolean {
    const now = this.ctx.clock.now();
    this.liveness.touch(now);
    this.report.inbound(now);
    this.inbound++;
    const { msg, malformed } = parseFrame(text);
    for (const r of malformed) this.malformed(r);
    if (!msg) return false;
    if (msg.channel === 0) {
      if (msg.type === 'SETUP') this.awaitingGreeting = true;
      else if (msg.type === 'AUTH_STATE') this.onAuthStateFrame(String(msg.state));
      return true;
    }
    if (msg.channel === this.conn?.channelId) {
      if (msg.type === 'FEED_CONFIG') {
        const bad = this.schema.applyConfig(msg);
        if (bad) this.malformed(bad);
      } else if (msg.type === 'FEED_DATA') {
        this.onData(msg.data, now);
      }
    } else if (msg.type === 'FEED_DATA') {
      this.malformed(`FEED_DATA on channel ${msg.channel}, which we never opened`);
      return false;
    }
    return true;
  }

  private onAuthStateFrame(state: string): void {
    if (this.awaitingGreeting) {
      this.awaitingGreeting = false;
      if (state !== 'AUTHORIZED') return;
    }
    if (state === 'UNAUTHORIZED') {
      // The 0.3.0 client forgets the token and sits connected with no data: replace it.
      queueMicrotask(() => this.scheduleRebuild('quote token rejected'));
    }
  }

  private onData(data: unknown, receivedAt: number): void {
    const { events, malformed } = decodeFeedData(data, this.schema);
    for (const r of malformed) this.malformed(r);
    for (const raw of events) {
      const m = mapEvent(raw, receivedAt, (s) => this.bySymbol.get(s) ?? this.watchKeys.get(s));
      if (m.kind === 'event') {
        this.report.data(receivedAt);
        const timeless = m.event.kind === 'greeks' && lacksTime(raw);
        const ev = timeless && m.event.kind === 'greeks' ? this.timeless.stamp(m.event, String(raw.eventSymbol)) : m.event;
        // --only-account: this feed serves one account's positions (another stream serves the others)
        this.emit(ev.kind === 'greeks' && this.config.onlyAccount ? { ...ev, account: this.config.onlyAccount } : ev);
      } else if (m.kind === 'malformed') this.malformed(m.reason);
      else this.skipped++;
    }
  }

  // ---- output ---------------------------------------------------------------------------

  private malformed(reason: string): void {
    this.report.malformed(reason);
  }

  private setState(state: StreamState, reason?: string): void {
    this.report.setState(state, reason);
  }

  private emit(e: BrokerEvent): void {
    try {
      this.ctx.emit(e);
    } catch (err) {
      this.ctx.log.error({ err: errorText(err) }, 'tasty emit failed');
    }
  }
}

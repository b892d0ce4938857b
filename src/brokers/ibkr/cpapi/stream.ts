/**
 * The Client Portal stream: one state machine over the REST session and the WebSocket.
 *
 *   connect: auth/status (+ ssodh/init) → /iserver/accounts → positions → /tickle → ws
 *   on the socket: first system/sts message (or a short fallback) → smd for every target
 *   timers (all on the injected Clock): `tic` + /tickle every heartbeatMs, silence watchdog,
 *   smd re-send before the gateway's 10-minute expiry, positions re-poll, reconnect backoff.
 *
 * Anything that breaks the connection (close, silence, competing or lost session) goes through
 * one path, lose(), which tears the connection down and schedules a reconnect with backoff;
 * every reconnect re-authenticates if needed and restores every subscription.
 */
import { sleep, systemRandom, type Clock, type TimerHandle } from '../../../core/clock.js';
import type { StreamState } from '../../../core/types.js';
import { EQUAL_JITTER } from '../../../core/backoff.js';
import { Generation } from '../../kit/generation.js';
import { Reconnector } from '../../kit/reconnect.js';
import { StreamReporter } from '../../kit/reporter.js';
import { Watchdog } from '../../kit/watchdog.js';
import type { BrokerStream, StreamContext, StreamHealth } from '../../types.js';
import type { IbkrConfig } from '../config.js';
import { frameEvents } from './events.js';
import { ConidFieldCache } from './fieldCache.js';
import { PacedCommands } from './pacer.js';
import { OPTION_FIELDS, UNDERLYING_FIELDS, smdCommand, umdCommand } from './fields.js';
import { Holdings, type Target } from './holdings.js';
import { BROKER, mapPosition, type OptionHolding } from './positions.js';
import { createRest, wsUrl, type CpapiRest } from './rest.js';
import { ensureBrokerageSession, fetchPositionRows, portfolioAccounts, primeAccounts, tickle } from './session.js';
import { openWsSocket, type CpapiSocket, type SocketFactory } from './socket.js';
import { parseInbound } from './wire.js';
import { errorText } from '../../../core/errors.js';
import { resolveConid } from './secdef.js';
import type { WatchSymbol } from '../../../quotes/symbols.js';

export interface CpapiStreamOptions {
  /** Positions re-poll period (default config.positionsPollMs, else 60 s). */
  positionsPollMs?: number;
  /** smd re-send period; the gateway expires subscriptions after 10 minutes (default 9 min). */
  smdResendMs?: number;
  /** No inbound message for this long = dead socket (default 30 s: three missed 10 s `system` hb). */
  silenceMs?: number;
  /** Subscribe this long after open if the gateway has not greeted us yet (default 1 s). */
  subscribeFallbackMs?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  random?: () => number;
  rest?: CpapiRest;
  openSocket?: SocketFactory;
}

const DEFAULTS = { smdResendMs: 9 * 60_000, silenceMs: 30_000, subscribeFallbackMs: 1000, backoffBaseMs: 500, backoffMaxMs: 30_000 };

export function createCpapiStream(config: IbkrConfig, ctx: StreamContext, opts: CpapiStreamOptions = {}): BrokerStream {
  return new CpapiStream(config, ctx, opts);
}

/** How long stop() keeps reading after unsubscribing everything (loopback needs far less). */
const STOP_DRAIN_MS = 300;

/** Timers of one socket connection, cleared together when it goes (the watchdog too). */
type ConnTimer = 'heartbeat' | 'smdResend' | 'subscribeFallback';

export class CpapiStream implements BrokerStream {
  private readonly clock: Clock;
  private readonly rest: CpapiRest;
  private readonly openSocket: SocketFactory;
  private readonly o: typeof DEFAULTS & { positionsPollMs: number; random: () => number };
  private readonly holdings = new Holdings();
  private readonly caches = new Map<number, ConidFieldCache>();
  private socket: CpapiSocket | null = null;
  private stopping = false;
  /** One token per connection attempt, so late callbacks of an old socket are ignored. */
  private readonly gen = new Generation();
  private subscribed = false;
  private accountsList: string[] | null = null;
  private timers = new Map<ConnTimer, TimerHandle>();
  private readonly reconnector: Reconnector;
  /** A socket that never opens is as dead as a silent one: runs from the connect on. */
  private readonly watchdog: Watchdog;
  private readonly report: StreamReporter;
  private pollTimer: TimerHandle | undefined;
  private polling = false;
  private counts = { tics: 0, tickles: 0, smdSends: 0, hb: 0, unknownConid: 0 };
  /** smd/umd commands, paced (a big book would otherwise send hundreds at once). */
  private readonly commands: PacedCommands;
  /** The watchlist (specs/quotes.md), its resolved conids (cached per symbol) and targets. */
  private watch: WatchSymbol[] = [];
  private watchConids = new Map<string, number>();
  private watchTargets = new Map<number, Target>();
  private watchUnresolved: string[] = [];

  constructor(private readonly config: IbkrConfig, private readonly ctx: StreamContext, opts: CpapiStreamOptions) {
    this.clock = ctx.clock;
    this.rest = opts.rest ?? createRest(config.gatewayUrl, config.tlsInsecure, { clock: ctx.clock });
    this.openSocket = opts.openSocket ?? openWsSocket;
    this.o = {
      smdResendMs: opts.smdResendMs ?? DEFAULTS.smdResendMs,
      silenceMs: opts.silenceMs ?? DEFAULTS.silenceMs,
      subscribeFallbackMs: opts.subscribeFallbackMs ?? DEFAULTS.subscribeFallbackMs,
      backoffBaseMs: opts.backoffBaseMs ?? DEFAULTS.backoffBaseMs,
      backoffMaxMs: opts.backoffMaxMs ?? DEFAULTS.backoffMaxMs,
      positionsPollMs: opts.positionsPollMs ?? config.positionsPollMs ?? 60_000,
      random: opts.random ?? systemRandom,
    };
    this.reconnector = new Reconnector(this.clock, { policy: { baseMs: this.o.backoffBaseMs, maxMs: this.o.backoffMaxMs, jitter: EQUAL_JITTER }, random: this.o.random });
    // Integer milliseconds: "silent for at least silenceMs" is "silent for more than silenceMs − 1".
    this.watchdog = new Watchdog(this.clock, {
      boundMs: this.o.silenceMs - 1,
      tickMs: Math.max(50, Math.floor(this.o.silenceMs / 3)),
      onSilence: (silent) => this.lose(`no message from the gateway for ${silent} ms`),
    });
    this.report = new StreamReporter({ broker: BROKER, clock: this.clock, emit: (e) => this.ctx.emit(e) });
    this.commands = new PacedCommands(this.clock, config.smdPerSec ?? 50, (text) => this.socket?.send(text));
  }

  private get state(): StreamState {
    return this.report.current;
  }

  async start(): Promise<void> {
    this.setState('connecting');
    try {
      await this.connect();
    } catch (err) {
      this.report.lastError = errorText(err);
      this.setState('disconnected', this.report.lastError);
      throw err;
    }
    this.pollTimer = this.clock.setInterval(() => void this.pollPositions(), this.o.positionsPollMs);
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped' || this.stopping) return;
    this.stopping = true;
    // End the subscriptions first and keep reading a moment: updates the gateway wrote before
    // it saw our umd are still on the wire and must be stored. (The gateway sends no ack.)
    if (this.socket && this.subscribed) {
      for (const t of this.allTargets().values()) this.socket.send(umdCommand(t.conid));
      await sleep(this.clock, STOP_DRAIN_MS);
    }
    this.gen.next();
    this.dropConnection();
    this.reconnector.cancel();
    this.clock.clearInterval(this.pollTimer);
    this.rest.close();
    this.setState('stopped');
  }

  async resubscribe(): Promise<void> {
    await this.refreshPositions();
    this.sendSubscriptions();
  }

  health(): StreamHealth {
    const paced = this.commands.stats();
    return this.report.health(this.allTargets().size, {
      transport: 'cpapi', ...this.counts, smdPending: paced.pending, smdPeakPer100ms: paced.peakPerSlot,
      watchlist: { symbols: this.watch.length, subscriptions: this.watchTargets.size, unresolved: [...this.watchUnresolved] },
    });
  }

  /** Held targets plus watched ones (a held contract keeps its own target). */
  private allTargets(): Map<number, Target> {
    const held = this.holdings.targets();
    if (this.watchTargets.size === 0) return held;
    const out = new Map(this.watchTargets);
    for (const [conid, t] of held) out.set(conid, t);
    return out;
  }

  /**
   * Replaces the watchlist. Before the session is up it is only kept (connect resolves it);
   * afterwards the conids are resolved now, new ones subscribed, dropped ones unsubscribed.
   */
  async setWatchlist(symbols: WatchSymbol[]): Promise<void> {
    this.watch = [...symbols];
    if (this.accountsList === null) return;
    await this.resolveWatch();
  }

  private async resolveWatch(): Promise<void> {
    const next = new Map<number, Target>();
    const unresolved: string[] = [];
    for (const w of this.watch) {
      let conid = this.watchConids.get(w.symbol);
      if (conid === undefined) {
        try {
          const c = await resolveConid(this.rest, w);
          if (c !== null) this.watchConids.set(w.symbol, (conid = c));
        } catch (err) {
          this.ctx.log.warn({ symbol: w.symbol, err: (err as Error).message }, 'ibkr: could not look up a watched symbol');
        }
      }
      if (conid === undefined) {
        unresolved.push(w.symbol);
        continue;
      }
      next.set(conid, w.kind === 'option'
        ? { kind: 'option', conid, contractKey: w.symbol, underlying: w.underlying }
        : { kind: 'underlying', conid, symbol: w.symbol });
    }
    if (unresolved.length > 0) this.ctx.log.warn({ unresolved }, 'ibkr: watched symbols without a conid are not streamed');
    const held = this.holdings.targets();
    const before = this.watchTargets;
    this.watchTargets = next;
    this.watchUnresolved = unresolved;
    this.ctx.log.info({ symbols: this.watch.length, conids: next.size }, 'ibkr watchlist set');
    if (!this.subscribed) return;
    for (const [conid, t] of next) if (!before.has(conid) && !held.has(conid)) this.subscribe(t);
    for (const conid of before.keys()) if (!next.has(conid) && !held.has(conid)) this.commands.push(conid, umdCommand(conid));
  }

  // ---- connection lifecycle -------------------------------------------------------------

  /** One full connection attempt. Throws when the gateway cannot be reached or authenticated. */
  private async connect(): Promise<void> {
    const gen = this.gen.next();
    const reopened = await ensureBrokerageSession(this.rest, (ms) => sleep(this.clock, ms));
    if (reopened || this.accountsList === null) {
      await primeAccounts(this.rest);
      if (reopened) this.ctx.log.info('ibkr: brokerage session (re)opened with ssodh/init');
    }
    // Positions are read at start; afterwards the poll keeps them current, so a reconnect
    // costs only a few REST calls (the gateway allows about 10/s).
    if (this.accountsList === null) {
      this.accountsList = await portfolioAccounts(this.rest, this.config.accounts);
      await this.refreshPositions();
      if (this.watch.length > 0) await this.resolveWatch();
    }
    const { session } = await tickle(this.rest);
    if (!session) throw new Error('the gateway /tickle returned no session: is it logged in?');
    if (!this.gen.isCurrent(gen)) return;
    const jar = this.rest.cookies();
    const cookie = `api=${session}` + (jar ? `; ${jar}` : '');
    this.subscribed = false;
    this.watchdog.start();
    this.socket = this.openSocket(wsUrl(this.config.gatewayUrl), cookie, this.config.tlsInsecure, {
      onOpen: this.gen.guard(gen, () => this.onOpen()),
      onMessage: this.gen.guard(gen, (text: string) => this.onMessage(text)),
      onClose: this.gen.guard(gen, (code: number, reason: string) => this.lose(`socket closed (${code}${reason ? ` ${reason}` : ''})`)),
      onError: this.gen.guard(gen, (err: Error) => {
        this.report.lastError = err.message;
        this.lose(`socket error: ${err.message}`);
      }),
    });
  }

  private onOpen(): void {
    this.ctx.log.info({ subscriptions: this.holdings.targets().size }, 'ibkr: socket open');
    this.watchdog.touch();
    this.every('heartbeat', this.config.heartbeatMs, () => this.heartbeat());
    this.every('smdResend', this.o.smdResendMs, () => this.sendSubscriptions());
    this.timers.set('subscribeFallback', this.clock.setTimeout(() => this.onGreeted(), this.o.subscribeFallbackMs));
  }

  /** The gateway has said hello (system/sts) or the fallback fired: subscribe, we are live. */
  private onGreeted(): void {
    if (this.subscribed) return;
    this.subscribed = true;
    this.clock.clearTimeout(this.timers.get('subscribeFallback'));
    this.timers.delete('subscribeFallback');
    this.sendSubscriptions();
    this.reconnector.succeeded();
    this.setState('connected');
  }

  /** Tears the connection down and schedules a reconnect. Idempotent per connection. */
  private lose(reason: string): void {
    if (this.state === 'stopped' || this.stopping || this.reconnector.pending) return;
    this.gen.next();
    this.dropConnection();
    this.report.reconnects++;
    const delay = this.reconnector.nextDelay();
    this.ctx.log.warn({ reason, delayMs: delay, attempt: this.reconnector.attempt }, 'ibkr: connection lost, reconnecting');
    this.setState('disconnected', reason);
    this.reconnector.schedule(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    if (this.state === 'stopped') return;
    this.setState('connecting');
    try {
      await this.connect();
    } catch (err) {
      this.report.lastError = errorText(err);
      this.lose(`reconnect failed: ${this.report.lastError}`);
    }
  }

  private dropConnection(): void {
    this.watchdog.stop();
    for (const [name, t] of this.timers) {
      this.clock.clearTimeout(t);
      this.clock.clearInterval(t);
      this.timers.delete(name);
    }
    this.commands.clear();
    this.socket?.close();
    this.socket = null;
    this.subscribed = false;
  }

  private every(name: ConnTimer, ms: number, fn: () => void): void {
    this.clock.clearInterval(this.timers.get(name));
    this.timers.set(name, this.clock.setInterval(fn, ms));
  }

  // ---- timers ---------------------------------------------------------------------------

  /** Both keep-alives: `tic` on the socket and /tickle on REST; each alone is not enough. */
  private heartbeat(): void {
    this.socket?.send('tic');
    this.counts.tics++;
    const gen = this.gen.current;
    this.counts.tickles++;
    tickle(this.rest).then(
      ({ auth }) => {
        if (this.gen.isCurrent(gen) && auth && (!auth.authenticated || auth.competing)) this.lose('tickle reports the session unauthenticated or competing');
      },
      (err: Error) => this.ctx.log.debug({ err: err.message }, 'ibkr: tickle failed'),
    );
  }

  private async pollPositions(): Promise<void> {
    if (this.polling || this.state === 'stopped') return;
    this.polling = true;
    try {
      const before = new Set(this.holdings.targets().keys());
      await this.refreshPositions();
      const after = this.holdings.targets();
      if (!this.subscribed) return;
      for (const [conid, t] of after) if (!before.has(conid)) this.subscribe(t);
      for (const conid of before) if (!after.has(conid) && !this.watchTargets.has(conid)) this.commands.push(conid, umdCommand(conid));
    } catch (err) {
      this.ctx.log.warn({ err: errorText(err) }, 'ibkr: positions poll failed');
    } finally {
      this.polling = false;
    }
  }

  // ---- positions and subscriptions ------------------------------------------------------

  private async refreshPositions(): Promise<void> {
    for (const account of this.accountsList ?? []) {
      const rows = await fetchPositionRows(this.rest, account);
      const positions = [];
      const options: OptionHolding[] = [];
      for (const row of rows) {
        const m = mapPosition(account, row);
        if (m.ok) {
          positions.push(m.position);
          if (m.option) options.push(m.option);
        } else if (m.reason !== 'closed') {
          this.malformed(`position: ${m.reason}`);
        }
      }
      if (this.holdings.setAccount(account, positions, options)) {
        this.ctx.log.info({ account, positions: positions.length, options: options.length }, 'ibkr: positions');
        this.ctx.emit({ kind: 'positions', broker: BROKER, account, at: this.clock.now(), positions });
      }
    }
  }

  private sendSubscriptions(): void {
    if (!this.socket) return;
    for (const t of this.allTargets().values()) this.subscribe(t);
  }

  private subscribe(t: Target): void {
    if (!this.socket) return;
    this.commands.push(t.conid, smdCommand(t.conid, t.kind === 'option' ? OPTION_FIELDS : UNDERLYING_FIELDS));
    this.counts.smdSends++;
  }

  // ---- inbound --------------------------------------------------------------------------

  private onMessage(text: string): void {
    const now = this.clock.now();
    this.watchdog.touch(now);
    this.report.inbound(now);
    const msg = parseInbound(text);
    switch (msg.type) {
      case 'malformed':
        return this.malformed(msg.reason);
      case 'hb':
        this.counts.hb++;
        if (!this.subscribed) this.onGreeted();
        return;
      case 'system':
        return this.onGreeted();
      case 'sts':
        if (msg.competing === true || msg.authenticated === false) {
          return this.lose(msg.competing ? 'competing session (sts)' : 'session no longer authenticated (sts)');
        }
        return this.onGreeted();
      case 'smd':
        return this.onMarketData(msg.conid, msg.updated, msg.fields, now);
      default:
        return;
    }
  }

  private onMarketData(conid: number, updated: number | null, fields: Record<string, unknown>, receivedAt: number): void {
    const target = this.holdings.targets().get(conid) ?? this.watchTargets.get(conid);
    if (!target) {
      this.counts.unknownConid++;
      return;
    }
    let cache = this.caches.get(conid);
    if (!cache) this.caches.set(conid, (cache = new ConidFieldCache()));
    const merged = cache.merge(fields, updated ?? receivedAt);
    if (target.kind === 'option' && merged.undConid !== null && !this.holdings.underlyingKnown(target.underlying)) {
      if (this.holdings.learnUnderlying(merged.undConid, target.underlying)) {
        const und = this.holdings.targets().get(merged.undConid);
        if (und) this.subscribe(und);
      }
    }
    const events = frameEvents(target, cache, merged, receivedAt);
    if (events.length > 0) this.report.data(receivedAt);
    for (const e of events) this.ctx.emit(e);
  }

  private malformed(reason: string): void {
    this.report.malformed(reason);
  }

  private setState(state: StreamState, reason?: string): void {
    this.report.setState(state, reason);
  }
}

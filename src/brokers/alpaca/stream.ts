/**
 * The Alpaca stream: what one account holds, and everything Alpaca says about it.
 *
 *   start: GET /v2/account → GET /v2/positions (+ /v2/options/contracts/{sym} once per contract,
 *          for the multiplier) → three channels (stock quotes JSON, option quotes msgpack,
 *          trade_updates) → the Greeks poll.
 *   Greeks: GET /v1beta1/options/snapshots, ≤ 100 symbols a call, every ALPACA_GREEKS_POLL_MS,
 *          paced by the REST budget (under Alpaca's ~200/min). One event per distinct snapshot:
 *          event_ts is the snapshot's quote time; an unchanged snapshot is dropped here, and its
 *          seq is a hash of its values, so the same snapshot is the same row key after a restart.
 *   Fills: trade_updates fill/partial_fill → `trades` (execution_id), then a positions re-read.
 *
 * Every timer runs on the injected Clock; each channel reconnects on its own (channel.ts).
 */
import type { Logger } from 'pino';
import { streaming } from '@alpacahq/alpaca-trade-api';
import { systemRandom, type Clock, type TimerHandle } from '../../core/clock.js';
import { finiteOrNull, type GreeksEvent, type Position, type StreamState } from '../../core/types.js';
import { StreamReporter } from '../kit/reporter.js';
import type { BrokerStream, StreamContext, StreamHealth } from '../types.js';
import { AlpacaChannel, type ChannelName, type ChannelOptions } from './channel.js';
import type { AlpacaConfig } from './config.js';
import { AlpacaAuthError, createAlpacaRest, type AlpacaRest, type OptionSnapshot, type Position as AlpacaPosition } from './rest.js';
import { contractKeyOf, isAlpacaOption, underlyingOfOption } from './symbols.js';

export const BROKER = 'alpaca';

export interface AlpacaStreamOptions {
  rest?: AlpacaRest;
  random?: () => number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Floor of the wait after a 406/429 (default 5 s; the real server holds a dead socket ~90 s). */
  limitFloorMs?: number;
  /** How long start() waits for the channels' first authentication (default 15 s). */
  startWaitMs?: number;
}

/** The stock stream over JSON (the SDK's market-data class defaults to msgpack; its base class speaks both). */
export class JsonStockStream extends streaming.StockDataStream {
  constructor(o: streaming.StockDataStreamOptions) {
    super(o);
    (this as unknown as { codec: string }).codec = 'json';
  }
}

interface Held {
  position: Position;
  symbol: string;
}

/** 31-bit FNV-1a of a string: the seq of a snapshot (same values → same row key). */
function hash31(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return (h >>> 0) & 0x7fffffff;
}

export class AlpacaStream implements BrokerStream {
  private readonly clock: Clock;
  private readonly rest: AlpacaRest;
  private readonly report: StreamReporter;
  private readonly log: Logger;
  private account: string | null = null;
  private held: Held[] = [];
  private positionsSig = '';
  private readonly multipliers = new Map<string, number>();
  private readonly channels = new Map<ChannelName, AlpacaChannel>();
  private readonly lastSnapshot = new Map<string, string>();
  private readonly underlyingPx = new Map<string, number>();
  private readonly seenFills = new Set<string>();
  private greeksTimer: TimerHandle | undefined;
  private positionsTimer: TimerHandle | undefined;
  private pollingGreeks = false;
  private refreshing: Promise<void> | null = null;
  private stopped = false;
  private readonly counts = { snapshots: 0, snapshotDuplicates: 0, greeksPolls: 0, greeksPollErrors: 0, quotes: 0, fills: 0, fillDuplicates: 0 };

  constructor(private readonly config: AlpacaConfig, private readonly ctx: StreamContext, private readonly o: AlpacaStreamOptions = {}) {
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.rest = o.rest ?? createAlpacaRest(config, ctx.clock);
    this.report = new StreamReporter({ broker: BROKER, clock: this.clock, emit: (e) => ctx.emit(e) });
  }

  // ---- lifecycle ---------------------------------------------------------------------------

  async start(): Promise<void> {
    this.report.setState('connecting');
    try {
      this.account = await this.accountNumber();
      await this.refreshPositions();
      this.ensureChannels();
      const settled = await Promise.race([
        Promise.all([...this.channels.values()].map((c) => c.whenSettled())),
        new Promise<null>((resolve) => void this.clock.setTimeout(() => resolve(null), this.o.startWaitMs ?? 15_000)),
      ]);
      const failed = [...this.channels.values()].find((c) => c.terminal);
      if (failed) throw new AlpacaAuthError(402, failed.terminal!);
      if (settled === null) this.log.warn('alpaca: not every stream authenticated yet; they keep retrying');
    } catch (err) {
      this.report.lastError = (err as Error).message;
      this.report.setState('disconnected', this.report.lastError);
      await this.stop();
      throw err instanceof AlpacaAuthError && /stream refused/.test(err.message) ? new Error(err.message.replace(/^.*?(Alpaca \w+ stream)/, '$1')) : err;
    }
    this.greeksTimer = this.clock.setInterval(() => void this.pollGreeks(), this.config.greeksPollMs);
    this.positionsTimer = this.clock.setInterval(() => void this.refreshPositions().catch((e: Error) => this.log.warn({ err: e.message }, 'alpaca: positions re-read failed')), this.config.positionsPollMs);
    void this.pollGreeks();
    this.updateState();
  }

  /** The account number from /v2/account; a server without that route (or a failing one) gives `paper`/`live`. */
  private async accountNumber(): Promise<string> {
    try {
      return (await this.rest.account()).accountNumber;
    } catch (err) {
      if (err instanceof AlpacaAuthError) throw err;
      const fallback = this.config.paper ? 'paper' : 'live';
      this.log.warn({ err: (err as Error).message, account: fallback }, 'alpaca: /v2/account failed; rows carry the account as ' + fallback);
      return fallback;
    }
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.clearInterval(this.greeksTimer);
    this.clock.clearInterval(this.positionsTimer);
    for (const c of this.channels.values()) c.stop();
    this.report.setState('stopped');
  }

  async resubscribe(): Promise<void> {
    await this.refreshPositions();
    for (const [name, c] of this.channels) {
      const s = c.current;
      if (s && c.state === 'ready') this.subscribe(name, s);
    }
  }

  health(): StreamHealth {
    const channels: Record<string, unknown> = {};
    for (const [name, c] of this.channels) channels[name] = { state: c.state, ...c.counts, lastError: c.lastError };
    return this.report.health(this.held.length, {
      account: this.account, channels, rest: { ...this.rest.stats, budgetPerMinute: this.rest.budget.perMinute, budgetWaits: this.rest.budget.waits }, ...this.counts,
    });
  }

  // ---- positions ------------------------------------------------------------------------------

  private optionSymbols(): string[] {
    return this.held.filter((h) => h.position.assetClass === 'option').map((h) => h.symbol);
  }

  /** Stocks held, and the underlyings of the options held (for underlying_price). */
  private stockSymbols(): string[] {
    const out = new Set<string>();
    for (const h of this.held) out.add(h.position.assetClass === 'option' ? h.position.underlying : h.symbol);
    return [...out].sort();
  }

  private refreshPositions(): Promise<void> {
    // One re-read at a time; a fill during a read waits for it and then reads again.
    const run = async () => {
      const rows = await this.rest.positions();
      // New contracts' details, 4 at a time (the REST budget still paces them), then the mapping.
      const queue = [...new Set(rows.filter((r) => isAlpacaOption(r.symbol) && !this.multipliers.has(r.symbol)).map((r) => r.symbol))];
      await Promise.all(Array.from({ length: Math.min(4, queue.length) }, async () => {
        for (let sym = queue.shift(); sym !== undefined; sym = queue.shift()) await this.multiplierOf(sym);
      }));
      const held: Held[] = [];
      for (const row of rows) {
        const h = await this.mapPosition(row);
        if (h) held.push(h);
      }
      held.sort((a, b) => (a.position.contractKey < b.position.contractKey ? -1 : 1));
      const sig = JSON.stringify(held.map((h) => [h.position.contractKey, h.position.quantity, h.position.multiplier, h.position.avgPrice]));
      const before = new Set([...this.optionSymbols(), ...this.stockSymbols()]);
      this.held = held;
      if (sig !== this.positionsSig) {
        this.positionsSig = sig;
        this.log.info({ account: this.account, positions: held.length, options: this.optionSymbols().length }, 'alpaca: positions');
        this.ctx.emit({ kind: 'positions', broker: BROKER, account: this.account ?? '', at: this.clock.now(), positions: held.map((h) => h.position) });
      }
      const after = new Set([...this.optionSymbols(), ...this.stockSymbols()]);
      if (this.channels.size > 0 && (before.size !== after.size || [...after].some((s) => !before.has(s)))) this.syncSubscriptions(before);
    };
    const next: Promise<void> = (this.refreshing ?? Promise.resolve()).catch(() => {}).then(run);
    this.refreshing = next.finally(() => {
      if (this.refreshing === next) this.refreshing = null;
    });
    return next;
  }

  /** The contract's multiplier (`multiplier`, else `size`), read once; 100 for now when the read fails (retried next time). */
  private async multiplierOf(symbol: string): Promise<number> {
    const known = this.multipliers.get(symbol);
    if (known !== undefined) return known;
    try {
      const c = await this.rest.contract(symbol);
      const m = finiteOrNull(c.multiplier) ?? finiteOrNull(c.size) ?? 100;
      this.multipliers.set(symbol, m);
      return m;
    } catch (err) {
      if (err instanceof AlpacaAuthError) throw err;
      this.log.warn({ symbol, err: (err as Error).message }, 'alpaca: option contract details failed; multiplier 100 until the next read');
      return 100;
    }
  }

  private async mapPosition(row: AlpacaPosition): Promise<Held | null> {
    const qtyRaw = finiteOrNull(row.qty);
    if (qtyRaw === null || qtyRaw === 0) return null;
    // Shorts carry a negative qty; a positive qty with side "short" is normalised the same way.
    const quantity = row.side === 'short' && qtyRaw > 0 ? -qtyRaw : qtyRaw;
    const avgPrice = finiteOrNull(row.avgEntryPrice);
    const cls = String(row.assetClass);
    if (cls === 'us_option' || isAlpacaOption(row.symbol)) {
      let key: string;
      try {
        key = contractKeyOf(row.symbol);
      } catch (err) {
        this.report.malformed(`position symbol ${row.symbol}: ${(err as Error).message}`);
        return null;
      }
      const multiplier = await this.multiplierOf(row.symbol);
      return { symbol: row.symbol, position: { broker: BROKER, account: this.account ?? '', contractKey: key, underlying: underlyingOfOption(row.symbol), quantity, multiplier, avgPrice, assetClass: 'option' } };
    }
    if (cls === 'us_equity') {
      return { symbol: row.symbol, position: { broker: BROKER, account: this.account ?? '', contractKey: row.symbol, underlying: row.symbol, quantity, multiplier: 1, avgPrice, assetClass: 'equity' } };
    }
    return null; // crypto and other classes: not part of options risk
  }

  // ---- channels -------------------------------------------------------------------------------

  private channelOptions(name: ChannelName, url: string, build: ChannelOptions['build']): ChannelOptions {
    return {
      name, url, build,
      clock: this.clock,
      silenceMs: this.config.silenceMs,
      backoffBaseMs: this.o.backoffBaseMs ?? 1_000,
      backoffMaxMs: this.o.backoffMaxMs ?? 64_000,
      limitFloorMs: this.o.limitFloorMs ?? 5_000,
      random: this.o.random ?? systemRandom,
      // The set was handed to the SDK stream before auth (it sends it once); positions may have changed since.
      onReady: (s) => name !== 'trading' && this.subscribe(name, s),
      onInbound: () => this.report.inbound(),
      onMalformed: (reason) => this.report.malformed(`${name}: ${reason}`),
      log: (level, msg, fields) => this.log[level](fields ?? {}, msg),
      onState: () => this.updateState(),
    };
  }

  private ensureChannels(): void {
    if (this.stopped) return;
    const credentials = { keyId: this.config.keyId, secret: this.config.secretKey };
    const common = { credentials, reconnect: false, pingIntervalMs: 0 };
    const want: [ChannelName, boolean, () => AlpacaChannel][] = [
      ['stocks', this.stockSymbols().length > 0, () => new AlpacaChannel(this.channelOptions('stocks', `${this.config.streamUrl}/v2/${this.config.stockFeed}`, (wsFactory, live) => {
        const s = new JsonStockStream({ ...common, wsFactory, url: `${this.config.streamUrl}/v2/${this.config.stockFeed}` });
        s.onQuote(live((q: streaming.StreamQuote) => this.onStockQuote(q)));
        this.subscribe('stocks', s); // before auth: the SDK sends the set once, right after authenticating
        return s;
      }))],
      ['options', this.optionSymbols().length > 0, () => new AlpacaChannel(this.channelOptions('options', `${this.config.streamUrl}/v1beta1/${this.config.optionFeed}`, (wsFactory, live) => {
        const s = new streaming.OptionDataStream({ ...common, wsFactory, url: `${this.config.streamUrl}/v1beta1/${this.config.optionFeed}` });
        s.onQuote(live((q: streaming.StreamQuote) => this.onOptionQuote(q)));
        this.subscribe('options', s);
        return s;
      }))],
      ['trading', true, () => new AlpacaChannel(this.channelOptions('trading', this.config.tradingStreamUrl, (wsFactory, live) => {
        const s = new streaming.TradingStream({ ...common, wsFactory, url: this.config.tradingStreamUrl });
        s.onTradeUpdate(live((u: streaming.TradeUpdate) => this.onTradeUpdate(u)));
        s.subscribeTradeUpdates(); // before auth: `listen` goes out right after authorization
        return s;
      }))],
    ];
    for (const [name, wanted, make] of want) {
      if (!wanted || this.channels.has(name)) continue;
      const c = make();
      this.channels.set(name, c);
      c.start();
    }
  }

  /** Brings the stream's quote subscription to the wanted set (only the difference goes out). */
  private subscribe(name: ChannelName, s: streaming.AlpacaWebSocket): void {
    if (name === 'trading') return;
    const want = name === 'stocks' ? this.stockSymbols() : this.optionSymbols();
    const md = s as streaming.MarketDataStream;
    const have = new Set(md.getSubscriptions().quotes);
    const add = want.filter((x) => !have.has(x));
    const drop = [...have].filter((x) => !want.includes(x));
    if (add.length) md.subscribeForQuotes(add);
    if (drop.length) md.unsubscribeFromQuotes(drop);
  }

  /** Positions changed: open channels newly needed and adjust the subscriptions of the open ones. */
  private syncSubscriptions(_before: Set<string>): void {
    this.ensureChannels();
    for (const [name, c] of this.channels) {
      const s = c.current;
      if (s && c.state === 'ready') this.subscribe(name, s);
    }
  }

  private updateState(): void {
    if (this.stopped) return;
    const cs = [...this.channels.values()];
    if (cs.length === 0) return;
    const ready = cs.filter((c) => c.state === 'ready').length;
    const failed = cs.find((c) => c.state === 'failed');
    let state: StreamState = ready === cs.length ? 'connected' : ready > 0 ? 'degraded' : 'disconnected';
    if (failed && ready > 0) state = 'degraded';
    const reason = cs.filter((c) => c.state !== 'ready').map((c) => `${[...this.channels].find(([, x]) => x === c)?.[0]}: ${c.lastError ?? c.state}`).join('; ');
    if (failed) this.report.lastError = failed.terminal;
    this.report.setState(state, reason || undefined);
  }

  // ---- inbound ----------------------------------------------------------------------------

  private onStockQuote(q: streaming.StreamQuote): void {
    const now = this.clock.now();
    const bid = finiteOrNull(q.bidPrice);
    const ask = finiteOrNull(q.askPrice);
    if (typeof q.symbol !== 'string' || q.symbol === '') return this.report.malformed('stocks: quote without a symbol');
    const mid = bid !== null && ask !== null && bid > 0 && ask > 0 ? (bid + ask) / 2 : null;
    if (mid !== null) this.underlyingPx.set(q.symbol, mid);
    this.counts.quotes++;
    this.report.data(now);
    this.ctx.emit({ kind: 'quote', broker: BROKER, key: q.symbol, eventTs: tsOf(q.timestamp, now), receivedAt: now, bid, ask, mark: mid });
  }

  private onOptionQuote(q: streaming.StreamQuote): void {
    const now = this.clock.now();
    let key: string;
    try {
      key = contractKeyOf(String(q.symbol));
    } catch {
      return this.report.malformed(`options: quote for "${String(q.symbol)}"`);
    }
    const bid = finiteOrNull(q.bidPrice);
    const ask = finiteOrNull(q.askPrice);
    this.counts.quotes++;
    this.report.data(now);
    this.ctx.emit({ kind: 'quote', broker: BROKER, key, eventTs: tsOf(q.timestamp, now), receivedAt: now, bid, ask, mark: bid !== null && ask !== null ? (bid + ask) / 2 : null });
  }

  private onTradeUpdate(u: streaming.TradeUpdate): void {
    if (u.event !== 'fill' && u.event !== 'partial_fill') return;
    const now = this.clock.now();
    const order = u.order as unknown as Record<string, unknown>;
    const symbol = String(order.symbol ?? '');
    const qty = finiteOrNull(u.qty);
    const price = finiteOrNull(u.price);
    const side = String(order.side ?? '');
    const tradeId = u.executionId ?? (order.id ? `${String(order.id)}:${String(order.filledQty ?? order.filled_qty ?? '')}` : null);
    if (!symbol || qty === null || price === null || (side !== 'buy' && side !== 'sell') || !tradeId) {
      return this.report.malformed('trading: fill without symbol, qty, price, side or id');
    }
    let contractKey = symbol;
    if (isAlpacaOption(symbol)) {
      try {
        contractKey = contractKeyOf(symbol);
      } catch {
        return this.report.malformed(`trading: fill for "${symbol}"`);
      }
    }
    if (this.seenFills.has(tradeId)) {
      this.counts.fillDuplicates++;
      return;
    }
    this.seenFills.add(tradeId);
    if (this.seenFills.size > 10_000) this.seenFills.delete(this.seenFills.values().next().value!);
    this.counts.fills++;
    this.ctx.emit({
      kind: 'trade', broker: BROKER, account: this.account ?? '', tradeId, contractKey, side, quantity: qty, price,
      executedAt: tsOf(u.timestamp, now), source: 'alpaca:trade_updates',
    });
    // The book changed: read it now rather than at the next poll.
    void this.refreshPositions().catch((e: Error) => this.log.warn({ err: e.message }, 'alpaca: positions re-read after a fill failed'));
  }

  // ---- Greeks poll ------------------------------------------------------------------------------

  private async pollGreeks(): Promise<void> {
    if (this.pollingGreeks || this.stopped) return;
    this.pollingGreeks = true;
    this.counts.greeksPolls++;
    try {
      const symbols = this.optionSymbols();
      for (let i = 0; i < symbols.length && !this.stopped; i += 100) {
        const chunk = symbols.slice(i, i + 100);
        const snaps = await this.rest.snapshots(chunk);
        const receivedAt = this.clock.now();
        for (const sym of chunk) if (snaps[sym]) this.onSnapshot(sym, snaps[sym], receivedAt);
      }
    } catch (err) {
      this.counts.greeksPollErrors++;
      if (this.counts.greeksPollErrors === 1 || this.counts.greeksPollErrors % 20 === 0) {
        this.log.warn({ err: (err as Error).message, failures: this.counts.greeksPollErrors }, 'alpaca: option snapshot poll failed');
      }
      this.report.lastError = (err as Error).message;
    } finally {
      this.pollingGreeks = false;
    }
  }

  private onSnapshot(symbol: string, snap: OptionSnapshot, receivedAt: number): void {
    const held = this.held.find((h) => h.symbol === symbol);
    if (!held) return;
    const key = held.position.contractKey;
    const q = snap.latestQuote;
    const eventTs = tsOf(q?.t ?? snap.latestTrade?.t, receivedAt);
    const g = snap.greeks;
    const values = {
      iv: finiteOrNull(snap.impliedVolatility), delta: finiteOrNull(g?.delta), gamma: finiteOrNull(g?.gamma), theta: finiteOrNull(g?.theta), vega: finiteOrNull(g?.vega), rho: finiteOrNull(g?.rho),
    };
    const bid = finiteOrNull(q?.bp);
    const ask = finiteOrNull(q?.ap);
    const body = JSON.stringify([values.iv, values.delta, values.gamma, values.theta, values.vega, values.rho, bid, ask]);
    const sig = `${eventTs}|${body}`;
    if (this.lastSnapshot.get(key) === sig) {
      this.counts.snapshotDuplicates++;
      return;
    }
    this.lastSnapshot.set(key, sig);
    this.counts.snapshots++;
    this.report.data(receivedAt);
    const event: GreeksEvent = {
      kind: 'greeks', broker: BROKER, account: this.account ?? undefined, contractKey: key, underlying: held.position.underlying,
      eventTs, seq: hash31(body), receivedAt, ...values,
      bid, ask, mark: bid !== null && ask !== null ? (bid + ask) / 2 : null, underlyingPrice: this.underlyingPx.get(held.position.underlying) ?? null,
    };
    this.ctx.emit(event);
  }
}

function tsOf(t: unknown, fallback: number): number {
  if (t instanceof Date) return Number.isFinite(t.getTime()) ? t.getTime() : fallback;
  if (typeof t === 'string') {
    const ms = Date.parse(t);
    return Number.isFinite(ms) ? ms : fallback;
  }
  return fallback;
}

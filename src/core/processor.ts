import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import { SeenWindow } from './dedupe.js';
import type { DeadLetter, RowKind } from './deadLetter.js';
import { withDeadline } from './deadline.js';
import { DEFAULT_FLUSH, Flusher, type FlushHooks, type FlushOptions, type FlushStats, type SpillReport } from './flushPolicy.js';
import { MemoryJournal, type Journal } from './journal.js';
import type { PositionSet } from './journalRows.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import type { BrokerEvent, GreekSnapshot, GreeksEvent, MarketMetric, Position, QuoteEvent, QuoteRow, TradeRow } from './types.js';
import { errorText } from './errors.js';

/**
 * The core processor: one per process, on the main thread. It keeps the positions, quotes and
 * latest greeks per contract, turns every greeks update into one snapshot row per holding
 * account, drops duplicates (counted), keeps out-of-order updates out of the latest state, and
 * hands rows to the flush policy. Trades and position sets go through their own flushers with
 * the same policy, journal and replay as snapshots (exactly once: trades are unique per
 * (broker, trade_id); a position set older than the stored one changes nothing). Side effects
 * (database) only through `storage`.
 */
export interface ProcessorStorage {
  writeSnapshots(rows: GreekSnapshot[]): Promise<{ inserted: number; duplicates: number }>;
  replacePositions(broker: string, account: string, positions: Position[], at: number): Promise<void>;
  writeTrades(rows: TradeRow[]): Promise<{ inserted: number; duplicates: number }>;
  /** Latest market metrics per symbol (optional: storages without it drop them). */
  writeMarketMetrics?(source: string, rows: MarketMetric[]): Promise<number>;
  /** Latest quote per symbol (`quotes`); absent: quotes are kept in memory only. */
  writeQuotes?(rows: QuoteRow[]): Promise<{ inserted: number; duplicates: number }>;
}

export interface ProcessorOptions {
  storage: ProcessorStorage;
  log: Logger;
  clock?: Clock;
  flush?: Partial<FlushOptions>;
  /** Snapshot journal (default: none). */
  journal?: Journal;
  /** Trade and position-set journals (default: in memory). */
  tradeJournal?: Journal;
  positionJournal?: Journal;
  /** How long POST /v1/trades waits for the database before journaling the trade (TRADE_ACCEPT_WAIT_MS, default 2000). */
  tradeAcceptWaitMs?: number;
  /** Rows the database refuses for their content go here with the reason. */
  deadLetter?: DeadLetter;
  /** False only for a failure that names the rows themselves (they are then isolated and dead-lettered). */
  isRetryable?: (err: unknown) => boolean;
}

/** What POST /v1/trades learns: written now (inserted 0 = a duplicate), or durably journaled for later. */
export type TradeAcceptance = { status: 'written'; inserted: number } | { status: 'journaled' };

export type DropReason = 'duplicate' | 'duplicate_db' | 'not_held' | 'invalid' | 'malformed' | 'rejected';

interface QuoteState {
  bid: number | null;
  ask: number | null;
  last: number | null;
  mark: number | null;
  eventTs: number;
  /** When the newest quote or Greeks of this key arrived (0: never a quote, only Greeks). */
  receivedAt?: number;
  /** Latest Greeks of an option key (watched options have no snapshot rows to keep them). */
  greeks?: Pick<GreeksEvent, 'iv' | 'delta' | 'gamma' | 'theta' | 'vega'>;
}

/** A quote key's cached state after an update: price = broker mark, else mid, else last. */
export interface QuoteUpdate {
  broker: string;
  key: string;
  bid: number | null;
  ask: number | null;
  last: number | null;
  mark: number | null;
  price: number | null;
  eventTs: number;
}

export interface LatestGreeks extends GreekSnapshot {
  updatedAt: number;
}

export interface BrokerCounters {
  eventsIn: number;
  greeksIn: number;
  quotesIn: number;
  rowsOut: number;
  lastEventAt: number | null;
}

export interface ProcessorStats {
  eventsIn: number;
  rowsProduced: number;
  outOfOrder: number;
  drops: Record<DropReason, number>;
  perBroker: Record<string, BrokerCounters>;
  flush: FlushStats;
  latency: LatencySummary;
  /** Failed position-set write attempts (retried) plus position sets rejected. */
  positionWriteErrors: number;
  trades: FlushStats;
  positions: FlushStats;
  /** The `quotes` writer (optional so hand-made stats in tests still typecheck). */
  quotes?: FlushStats;
  /** Rows (any kind) kept in the dead-letter file; deadLetterErrors: rows it could not even record. */
  deadLettered: number;
  deadLetterErrors: number;
  /** POST /v1/trades answered 202: the trade went to the journal because the database did not take it in time. */
  tradesAcceptedToJournal: number;
}

const defaultIsRetryable = (err: unknown) => !!(err && typeof err === 'object' && (err as { retryable?: boolean }).retryable);

/** One held position as the processor tracks it: its size, what it has seen, its newest snapshot. */
interface Holding {
  position: Position;
  seen: SeenWindow;
  latest: GreekSnapshot | null;
}

/** Everything about one contract at one broker, found with a single lookup per update. */
interface ContractState {
  holdings: Map<string, Holding>;
}

interface BrokerState {
  contracts: Map<string, ContractState>;
  /** Quotes by contract key (options) or symbol (underlyings). */
  quotes: Map<string, QuoteState>;
  counters: BrokerCounters;
}

export class Processor {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly storage: ProcessorStorage;
  readonly flusher: Flusher<GreekSnapshot>;
  readonly tradeFlusher: Flusher<TradeRow>;
  readonly positionFlusher: Flusher<PositionSet>;
  /**
   * Latest quote per symbol into `quotes`: at most one pending row per symbol (a newer tick
   * updates the pending row in place), written on the flush interval, never per tick.
   */
  readonly quoteFlusher: Flusher<QuoteRow>;
  private pendingQuotes = new Map<string, QuoteRow>();
  /** Watched symbols (WATCHLIST, /v1/watchlist): their unheld Greeks are expected, not `not_held` drops. */
  private watched = new Set<string>();
  private readonly deadLetter?: DeadLetter;
  private readonly isRetryable: (err: unknown) => boolean;
  private readonly tradeAcceptWaitMs: number;
  readonly latency = new LatencyRecorder();
  private brokers = new Map<string, BrokerState>();
  /** broker|account → the contract keys it holds (to apply a new position set). */
  private accountContracts = new Map<string, Set<string>>();
  private counters: Omit<ProcessorStats, 'flush' | 'latency' | 'perBroker' | 'trades' | 'positions' | 'positionWriteErrors'> = {
    eventsIn: 0, rowsProduced: 0, outOfOrder: 0, deadLettered: 0, deadLetterErrors: 0, tradesAcceptedToJournal: 0,
    drops: { duplicate: 0, duplicate_db: 0, not_held: 0, invalid: 0, malformed: 0, rejected: 0 },
  };
  private listeners = new Set<(s: LatestGreeks) => void>();
  private quoteListeners = new Set<(q: QuoteUpdate) => void>();
  /** Newest market metrics per symbol (MetricsEvent). */
  private metrics = new Map<string, MarketMetric>();

  constructor(opts: ProcessorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log;
    this.storage = opts.storage;
    this.deadLetter = opts.deadLetter;
    this.tradeAcceptWaitMs = opts.tradeAcceptWaitMs ?? 2000;
    const isRetryable = (this.isRetryable = opts.isRetryable ?? defaultIsRetryable);
    const flush = { ...DEFAULT_FLUSH, ...opts.flush };
    const make = <T extends object>(kind: RowKind, hooks: Omit<FlushHooks<T>, 'isRetryable' | 'onRejected'>, journal: Journal | undefined, onRejected?: () => void) =>
      new Flusher<T>(
        {
          ...hooks, isRetryable,
          onRejected: (row, err) => { onRejected?.(); this.reject(kind, row, err); },
          // One database behind all three writers: when one gets through, the others retry now.
          onRecovered: () => { for (const f of this.flushers) f.retryNow(); },
        },
        flush, this.clock, this.log.child({ rows: kind }), journal,
      );
    this.flusher = make<GreekSnapshot>('snapshot', {
      write: (rows) => this.storage.writeSnapshots(rows),
      onWritten: (rows, result, at) => {
        for (const r of rows) this.latency.record(at - r.receivedAt);
        this.counters.drops.duplicate_db += result.duplicates;
      },
    }, opts.journal, () => this.counters.drops.rejected++);
    this.tradeFlusher = make<TradeRow>('trade', { write: (rows) => this.storage.writeTrades(rows) }, opts.tradeJournal ?? new MemoryJournal());
    this.positionFlusher = make<PositionSet>('positions', { write: (sets) => this.writePositionSets(sets) }, opts.positionJournal ?? new MemoryJournal());
    // Quotes are a cache, not a record: no journal, no eager write per tick; one statement per interval.
    this.quoteFlusher = new Flusher<QuoteRow>(
      {
        write: (rows) => {
          for (const r of rows) if (this.pendingQuotes.get(r.symbol) === r) this.pendingQuotes.delete(r.symbol);
          return this.storage.writeQuotes ? this.storage.writeQuotes(rows) : Promise.resolve({ inserted: rows.length, duplicates: 0 });
        },
        isRetryable,
        onRejected: (row, err) => this.reject('quote', row, err),
      },
      { ...flush, eagerWhenIdle: false, maxRows: Math.max(flush.maxRows, 1000), maxInFlight: 1 },
      this.clock, this.log.child({ rows: 'quote' }),
    );
  }

  private get flushers(): Array<Flusher<object>> {
    return [this.flusher, this.tradeFlusher, this.positionFlusher] as Array<Flusher<object>>;
  }

  /** Only the newest set per account matters; applied oldest-account-first, each in its own transaction. */
  private async writePositionSets(sets: PositionSet[]): Promise<{ inserted: number; duplicates: number }> {
    const latest = new Map<string, PositionSet>();
    for (const set of sets) {
      const key = `${set.broker}\u0000${set.account}`;
      const cur = latest.get(key);
      if (!cur || set.at >= cur.at) latest.set(key, set);
    }
    for (const set of latest.values()) await this.storage.replacePositions(set.broker, set.account, set.positions, set.at);
    return { inserted: latest.size, duplicates: sets.length - latest.size };
  }

  private reject(kind: RowKind, row: unknown, err: unknown): void {
    if (!this.deadLetter) return;
    try {
      this.deadLetter.add(kind, row, err);
      this.counters.deadLettered++;
    } catch (e) {
      this.counters.deadLetterErrors++;
      this.log.error({ err: errorText(e), kind, row }, 'dead-letter file not writable: the rejected row is only in this log line');
    }
  }

  /**
   * POST /v1/trades: writes the trade now if the database answers within `waitMs`; otherwise (down,
   * read-only, slow, blackholed) puts it durably in the trade journal, from which it is written
   * once the database takes writes again. Throws for a trade the database refuses (its content)
   * and when the journal cannot be written either (then nothing was accepted: a 503).
   */
  async acceptTrade(row: TradeRow, waitMs = this.tradeAcceptWaitMs): Promise<TradeAcceptance> {
    if (!this.tradeFlusher.failing) {
      try {
        const r = await withDeadline(this.storage.writeTrades([row]), waitMs, this.clock, () => TIMED_OUT);
        return { status: 'written', inserted: r.inserted };
      } catch (err) {
        if (err !== TIMED_OUT && !this.isRetryable(err)) throw err;
      }
    }
    this.tradeFlusher.journalNow([row]);
    this.counters.tradesAcceptedToJournal++;
    return { status: 'journaled' };
  }



  /** Takes one batch of events from an actor. Synchronous: rows are queued, writes happen later. */
  ingest(events: BrokerEvent[]): void {
    const rows: GreekSnapshot[] = [];
    for (const ev of events) {
      this.counters.eventsIn++;
      const b = this.brokerState(ev.broker);
      b.counters.eventsIn++;
      switch (ev.kind) {
        case 'greeks':
          b.counters.greeksIn++;
          b.counters.lastEventAt = ev.receivedAt;
          this.onGreeks(b, ev, rows);
          break;
        case 'quote':
          b.counters.quotesIn++;
          b.counters.lastEventAt = ev.receivedAt;
          this.queueQuote(ev.broker, ev.key, onQuote(b.quotes, ev));
          break;
        case 'positions':
          this.onPositions(b, ev.broker, ev.account, ev.positions, ev.at);
          break;
        case 'trade': {
          const { kind: _kind, ...trade } = ev;
          this.tradeFlusher.add([trade]);
          break;
        }
        case 'metrics':
          this.onMetrics(ev.broker, ev.metrics);
          break;
        case 'malformed':
          this.counters.drops.malformed += ev.count ?? 1;
          break;
        case 'state':
          break;
      }
    }
    if (rows.length > 0) {
      this.counters.rowsProduced += rows.length;
      this.flusher.add(rows);
    }
    if (this.quoteListeners.size > 0) this.emitQuotes(events);
  }

  /** Called with the cached state of a quote key after each quote event (sinks: the Redis fan-out). */
  onQuote(fn: (q: QuoteUpdate) => void): () => void {
    this.quoteListeners.add(fn);
    return () => this.quoteListeners.delete(fn);
  }

  private emitQuotes(events: BrokerEvent[]): void {
    for (const ev of events) {
      if (ev.kind !== 'quote') continue;
      const q = this.brokers.get(ev.broker)?.quotes.get(ev.key);
      if (!q) continue;
      const u: QuoteUpdate = { broker: ev.broker, key: ev.key, bid: q.bid, ask: q.ask, last: q.last, mark: q.mark, price: priceOf(q), eventTs: q.eventTs };
      for (const fn of this.quoteListeners) fn(u);
    }
  }

  /**
   * Market metrics come a few times an hour per broker: written at once (latest per symbol,
   * idempotent upsert), never journaled; a failed write waits for the next poll. The newest
   * per symbol is also kept in memory (marketMetrics()).
   */
  private onMetrics(broker: string, metrics: MarketMetric[]): void {
    for (const m of metrics) {
      const prev = this.metrics.get(m.symbol);
      if (!prev || prev.updatedAt <= m.updatedAt) this.metrics.set(m.symbol, m);
    }
    const write = this.storage.writeMarketMetrics?.bind(this.storage);
    if (!write || metrics.length === 0) return;
    write(broker, metrics).catch((err: unknown) => this.log.warn({ broker, err: (err as Error).message, rows: metrics.length }, 'market metrics not written; the next poll retries'));
  }

  /** The newest market metrics per symbol seen by this process. */
  marketMetrics(): MarketMetric[] {
    return [...this.metrics.values()];
  }

  /** Flushes everything pending (snapshots, trades, position sets, quotes) and waits for it. */
  async drain(): Promise<void> {
    await Promise.all([...this.flushers.map((f) => f.drain()), this.quoteFlusher.drain()]);
  }

  /** Snapshot rows waiting for the writer (in memory): the back-pressure high-water check reads it per batch. */
  get pendingSnapshotRows(): number {
    return this.flusher.pendingRows;
  }

  /** True while any writer's last attempt failed (the database is down, read-only, timing out...). */
  get writesFailing(): boolean {
    return this.flushers.some((f) => f.failing);
  }

  /** Shutdown: everything not yet written goes to the journals at once. */
  spillAll(): SpillReport {
    const out: SpillReport = { journaled: 0, lost: 0, error: null };
    for (const f of this.flushers) {
      const r = f.spillAll();
      out.journaled += r.journaled;
      out.lost += r.lost;
      out.error ??= r.error;
    }
    return out;
  }

  close(): void {
    for (const f of this.flushers) f.close();
    this.quoteFlusher.close();
  }

  /** The watched symbols (canonical keys); their Greeks are kept even when nobody holds them. */
  setWatchlist(symbols: Iterable<string>): void {
    this.watched = new Set(symbols);
  }

  /** The newest in-memory quote of each symbol across brokers (stream only), as `quotes` rows. */
  latestQuotes(symbols: string[]): QuoteRow[] {
    const out: QuoteRow[] = [];
    for (const symbol of symbols) {
      let best: QuoteRow | null = null;
      for (const [broker, b] of this.brokers) {
        const q = b.quotes.get(symbol);
        if (!q || !q.receivedAt) continue;
        if (!best || best.receivedAt < q.receivedAt) best = quoteRow(broker, symbol, q);
      }
      if (best) out.push(best);
    }
    return out;
  }

  /** Queues the current state of one quote key for `quotes` (one pending row per symbol). */
  private queueQuote(broker: string, key: string, q: QuoteState): void {
    if (!q.receivedAt) return;
    const pending = this.pendingQuotes.get(key);
    if (pending) {
      fillQuoteRow(pending, broker, key, q); // in place: no object per tick
      return;
    }
    const row = quoteRow(broker, key, q);
    this.pendingQuotes.set(key, row);
    this.quoteFlusher.add([row]);
  }

  /** Called for every new latest snapshot (debug CLI, API streams). */
  onLatest(fn: (s: LatestGreeks) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  latestGreeks(filter: { broker?: string; underlying?: string; account?: string } = {}): LatestGreeks[] {
    const out: LatestGreeks[] = [];
    for (const h of this.holdings(filter.broker)) {
      const s = h.latest;
      if (!s) continue;
      if (filter.underlying && s.underlying !== filter.underlying) continue;
      if (filter.account && s.account !== filter.account) continue;
      out.push({ ...s, updatedAt: s.receivedAt });
    }
    return out.sort((a, b) => a.underlying.localeCompare(b.underlying) || a.contractKey.localeCompare(b.contractKey) || a.account.localeCompare(b.account));
  }

  /** Latest price per quoted key (broker mark, else mid, else last), newest across brokers: the risk engine's live prices. */
  quotePrices(): { symbol: string; price: number; at: number }[] {
    const out = new Map<string, { symbol: string; price: number; at: number }>();
    for (const b of this.brokers.values()) {
      for (const [symbol, q] of b.quotes) {
        const price = priceOf(q);
        const cur = out.get(symbol);
        if (price !== null && (!cur || cur.at <= q.eventTs)) out.set(symbol, { symbol, price, at: q.eventTs });
      }
    }
    return [...out.values()];
  }

  heldPositions(broker?: string): Position[] {
    return [...this.holdings(broker)].map((h) => h.position);
  }

  /** The received→persisted latency histogram (count per bucket, total count, sum), for /metrics. */
  latencyHistogram(): { buckets: readonly number[]; count: number; sumMs: number } {
    return { buckets: this.latency.buckets, count: this.latency.count, sumMs: this.latency.sumMs };
  }

  /** Starts a fresh latency window (benchmarks measure one load level at a time). */
  resetLatency(): void {
    this.latency.reset();
  }

  stats(): ProcessorStats {
    const positions = this.positionFlusher.stats();
    return {
      ...this.counters,
      drops: { ...this.counters.drops },
      perBroker: Object.fromEntries([...this.brokers].map(([k, v]) => [k, { ...v.counters }])),
      flush: this.flusher.stats(),
      trades: this.tradeFlusher.stats(),
      positions,
      quotes: this.quoteFlusher.stats(),
      positionWriteErrors: positions.retries + positions.rejected,
      latency: this.latency.summary(),
    };
  }

  private *holdings(broker?: string): Iterable<Holding> {
    for (const [id, b] of this.brokers) {
      if (broker && id !== broker) continue;
      for (const c of b.contracts.values()) yield* c.holdings.values();
    }
  }

  private brokerState(id: string): BrokerState {
    let b = this.brokers.get(id);
    if (!b) {
      b = { contracts: new Map(), quotes: new Map(), counters: { eventsIn: 0, greeksIn: 0, quotesIn: 0, rowsOut: 0, lastEventAt: null } };
      this.brokers.set(id, b);
    }
    return b;
  }

  private onGreeks(b: BrokerState, ev: GreeksEvent, rows: GreekSnapshot[]): void {
    if (!ev.contractKey || !Number.isFinite(ev.eventTs) || !Number.isFinite(ev.seq)) {
      this.counters.drops.invalid++;
      return;
    }
    const quote = this.noteGreeks(b, ev);
    const holdings = b.contracts.get(ev.contractKey)?.holdings;
    const only = ev.account ? holdings?.get(ev.account) : undefined;
    if (!holdings || holdings.size === 0 || (ev.account && !only)) {
      if (!this.watched.has(ev.contractKey)) this.counters.drops.not_held++;
      return;
    }
    const underlyingQuote = b.quotes.get(ev.underlying);
    const bid = ev.bid ?? quote?.bid ?? null;
    const ask = ev.ask ?? quote?.ask ?? null;
    const mark = ev.mark ?? quote?.mark ?? mid(bid, ask) ?? quote?.last ?? null;
    const underlyingPrice = ev.underlyingPrice ?? (underlyingQuote ? priceOf(underlyingQuote) : null);
    const emitFor = (h: Holding) => {
      const verdict = h.seen.check(ev.eventTs, ev.seq);
      if (verdict === 'duplicate') {
        this.counters.drops.duplicate++;
        return;
      }
      const pos = h.position;
      const row: GreekSnapshot = {
        broker: ev.broker, account: pos.account, contractKey: ev.contractKey, underlying: ev.underlying || pos.underlying,
        eventTs: ev.eventTs, seq: ev.seq, receivedAt: ev.receivedAt, quantity: pos.quantity, multiplier: pos.multiplier,
        bid, ask, mark, underlyingPrice,
        iv: ev.iv, delta: ev.delta, gamma: ev.gamma, theta: ev.theta, vega: ev.vega, rho: ev.rho,
      };
      rows.push(row);
      b.counters.rowsOut++;
      if (verdict === 'out-of-order') {
        this.counters.outOfOrder++;
        return;
      }
      h.latest = row;
      if (this.listeners.size > 0) for (const fn of this.listeners) fn({ ...row, updatedAt: row.receivedAt });
    };
    if (only) emitFor(only);
    else for (const h of holdings.values()) emitFor(h);
  }

  /** Greeks (and the prices riding along) into the quote cache of the contract; queued for `quotes`. */
  private noteGreeks(b: BrokerState, ev: GreeksEvent): QuoteState | undefined {
    let q = b.quotes.get(ev.contractKey);
    const known = q !== undefined || this.watched.has(ev.contractKey) || ev.bid != null || ev.ask != null;
    if (!known) return undefined;
    if (!q) b.quotes.set(ev.contractKey, (q = { bid: null, ask: null, last: null, mark: null, eventTs: ev.eventTs }));
    const g = q.greeks;
    if (g) {
      g.iv = ev.iv;
      g.delta = ev.delta;
      g.gamma = ev.gamma;
      g.theta = ev.theta;
      g.vega = ev.vega;
    } else q.greeks = { iv: ev.iv, delta: ev.delta, gamma: ev.gamma, theta: ev.theta, vega: ev.vega };
    if (ev.bid != null) q.bid = ev.bid;
    if (ev.ask != null) q.ask = ev.ask;
    if (ev.mark != null) q.mark = ev.mark;
    if (ev.bid != null || ev.ask != null || !q.receivedAt) {
      q.receivedAt = Math.max(q.receivedAt ?? 0, ev.receivedAt);
      q.eventTs = Math.max(q.eventTs, ev.eventTs);
    }
    this.queueQuote(ev.broker, ev.contractKey, q);
    return q;
  }

  private onPositions(b: BrokerState, broker: string, account: string, positions: Position[], at: number): void {
    const key = `${broker}|${account}`;
    const prev = this.accountContracts.get(key) ?? new Set<string>();
    const next = new Set<string>();
    const open: Position[] = [];
    for (const p of positions) {
      if (p.quantity === 0 || next.has(p.contractKey)) continue;
      const position = { ...p, broker, account };
      next.add(p.contractKey);
      open.push(position);
      let c = b.contracts.get(p.contractKey);
      if (!c) b.contracts.set(p.contractKey, (c = { holdings: new Map() }));
      const h = c.holdings.get(account);
      if (h) h.position = position; // same holding: keep what it has seen and its latest
      else c.holdings.set(account, { position, seen: new SeenWindow(), latest: null });
    }
    for (const ck of prev) if (!next.has(ck)) b.contracts.get(ck)?.holdings.delete(account);
    this.accountContracts.set(key, next);
    this.positionFlusher.add([{ broker, account, at, positions: open }]);
  }
}

const TIMED_OUT = Symbol('timed out');


/**
 * The quote cache keeps the last quote received per key. A broker's quote stream arrives in
 * order on one connection, and brokers mix clocks (Tastytrade stamps a quote with bidTime/askTime,
 * which can be 0 → receipt time), so comparing event times would let a receipt-stamped quote
 * hide every later broker-stamped one.
 */
function onQuote(quotes: Map<string, QuoteState>, ev: QuoteEvent): QuoteState {
  const cur = quotes.get(ev.key);
  if (cur) {
    cur.bid = ev.bid ?? cur.bid;
    cur.ask = ev.ask ?? cur.ask;
    cur.last = ev.last ?? cur.last;
    cur.mark = ev.mark ?? null;
    cur.eventTs = ev.eventTs;
    cur.receivedAt = Math.max(cur.receivedAt ?? 0, ev.receivedAt);
    return cur;
  }
  const q: QuoteState = { bid: ev.bid ?? null, ask: ev.ask ?? null, last: ev.last ?? null, mark: ev.mark ?? null, eventTs: ev.eventTs, receivedAt: ev.receivedAt };
  quotes.set(ev.key, q);
  return q;
}

/** A quote key's state as a `quotes` row: mid from bid/ask, mark = the broker's mark, else mid. */
function quoteRow(broker: string, symbol: string, q: QuoteState): QuoteRow {
  const row = { symbol, broker, source: 'stream' } as QuoteRow;
  fillQuoteRow(row, broker, symbol, q);
  return row;
}

/** Sets every field of a `quotes` row from the key's state (the same fields, in the same order, every time). */
function fillQuoteRow(row: QuoteRow, broker: string, symbol: string, q: QuoteState): void {
  const raw = mid(q.bid, q.ask);
  // (523.77 + 525.87) / 2 is 524.8199999999999 in binary: prices are decimals, keep them so.
  const m = raw === null ? null : Math.round(raw * 1e9) / 1e9;
  row.symbol = symbol;
  row.broker = broker;
  row.source = 'stream';
  row.bid = q.bid;
  row.ask = q.ask;
  row.mid = m;
  row.mark = q.mark ?? m;
  row.last = q.last;
  row.eventTs = q.eventTs;
  row.receivedAt = q.receivedAt ?? q.eventTs;
  const g = q.greeks;
  row.iv = g?.iv ?? null;
  row.delta = g?.delta ?? null;
  row.gamma = g?.gamma ?? null;
  row.theta = g?.theta ?? null;
  row.vega = g?.vega ?? null;
}

function mid(bid: number | null, ask: number | null): number | null {
  return bid !== null && ask !== null && ask >= bid ? (bid + ask) / 2 : null;
}

function priceOf(q: QuoteState): number | null {
  return q.mark ?? mid(q.bid, q.ask) ?? q.last;
}


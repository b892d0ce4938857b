import type { Logger } from 'pino';
import { systemClock, type Clock } from './clock.js';
import { DedupeIndex } from './dedupe.js';
import { DEFAULT_FLUSH, Flusher, type FlushOptions, type FlushStats } from './flushPolicy.js';
import type { Journal } from './journal.js';
import { LatencyRecorder, type LatencySummary } from './latency.js';
import type { BrokerEvent, GreekSnapshot, GreeksEvent, Position, QuoteEvent, TradeRow } from './types.js';

/**
 * The core processor: one per process, on the main thread. It keeps the positions, quotes and
 * latest greeks per contract, turns every greeks update into one snapshot row per holding
 * account, drops duplicates (counted), keeps out-of-order updates out of the latest state, and
 * hands rows to the flush policy. Side effects (database) only through `storage`.
 */
export interface ProcessorStorage {
  writeSnapshots(rows: GreekSnapshot[]): Promise<{ inserted: number; duplicates: number }>;
  replacePositions(broker: string, account: string, positions: Position[], at: number): Promise<void>;
  writeTrades(rows: TradeRow[]): Promise<{ inserted: number; duplicates: number }>;
}

export interface ProcessorOptions {
  storage: ProcessorStorage;
  log: Logger;
  clock?: Clock;
  flush?: Partial<FlushOptions>;
  journal?: Journal;
  isRetryable?: (err: unknown) => boolean;
}

export type DropReason = 'duplicate' | 'duplicate_db' | 'not_held' | 'invalid' | 'malformed' | 'rejected';

interface QuoteState {
  bid: number | null;
  ask: number | null;
  last: number | null;
  mark: number | null;
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
  positionWriteErrors: number;
}

const defaultIsRetryable = (err: unknown) => !!(err && typeof err === 'object' && (err as { retryable?: boolean }).retryable);

export class Processor {
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly storage: ProcessorStorage;
  readonly flusher: Flusher<GreekSnapshot>;
  readonly latency = new LatencyRecorder();
  private readonly dedupe = new DedupeIndex();
  /** broker|account → contractKey → position */
  private positions = new Map<string, Map<string, Position>>();
  /** broker|contractKey → accounts holding it */
  private holders = new Map<string, Set<string>>();
  private quotes = new Map<string, QuoteState>();
  private latest = new Map<string, LatestGreeks>();
  private counters: Omit<ProcessorStats, 'flush' | 'latency' | 'perBroker'> = {
    eventsIn: 0, rowsProduced: 0, outOfOrder: 0, positionWriteErrors: 0,
    drops: { duplicate: 0, duplicate_db: 0, not_held: 0, invalid: 0, malformed: 0, rejected: 0 },
  };
  private perBroker = new Map<string, BrokerCounters>();
  private sideWrites = new Set<Promise<void>>();
  private listeners = new Set<(s: LatestGreeks) => void>();

  constructor(opts: ProcessorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log;
    this.storage = opts.storage;
    const isRetryable = opts.isRetryable ?? defaultIsRetryable;
    this.flusher = new Flusher<GreekSnapshot>(
      {
        write: (rows) => this.storage.writeSnapshots(rows),
        isRetryable,
        onWritten: (rows, result, at) => {
          for (const r of rows) this.latency.record(at - r.receivedAt);
          this.counters.drops.duplicate_db += result.duplicates;
        },
        onRejected: () => {
          this.counters.drops.rejected++;
        },
      },
      { ...DEFAULT_FLUSH, ...opts.flush },
      this.clock,
      this.log,
      opts.journal,
    );
  }

  /** Takes one batch of events from an actor. Synchronous: rows are queued, writes happen later. */
  ingest(events: BrokerEvent[]): void {
    const rows: GreekSnapshot[] = [];
    for (const ev of events) {
      this.counters.eventsIn++;
      const b = this.broker(ev.broker);
      b.eventsIn++;
      switch (ev.kind) {
        case 'greeks':
          b.greeksIn++;
          b.lastEventAt = ev.receivedAt;
          this.onGreeks(ev, rows);
          break;
        case 'quote':
          b.quotesIn++;
          b.lastEventAt = ev.receivedAt;
          this.onQuote(ev);
          break;
        case 'positions':
          this.onPositions(ev.broker, ev.account, ev.positions, ev.at);
          break;
        case 'trade':
          this.track(this.storage.writeTrades([{ ...ev }]).then(() => undefined));
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
  }

  /** Flushes everything pending (rows and position writes) and waits for it. */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.sideWrites]);
    await this.flusher.drain();
  }

  close(): void {
    this.flusher.close();
  }

  /** Called for every new latest snapshot (debug CLI, API streams). */
  onLatest(fn: (s: LatestGreeks) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  latestGreeks(filter: { broker?: string; underlying?: string; account?: string } = {}): LatestGreeks[] {
    const out: LatestGreeks[] = [];
    for (const s of this.latest.values()) {
      if (filter.broker && s.broker !== filter.broker) continue;
      if (filter.underlying && s.underlying !== filter.underlying) continue;
      if (filter.account && s.account !== filter.account) continue;
      out.push(s);
    }
    return out.sort((a, b) => a.underlying.localeCompare(b.underlying) || a.contractKey.localeCompare(b.contractKey) || a.account.localeCompare(b.account));
  }

  heldPositions(broker?: string): Position[] {
    const out: Position[] = [];
    for (const m of this.positions.values()) for (const p of m.values()) if (!broker || p.broker === broker) out.push(p);
    return out;
  }

  stats(): ProcessorStats {
    return {
      ...this.counters,
      drops: { ...this.counters.drops },
      perBroker: Object.fromEntries([...this.perBroker].map(([k, v]) => [k, { ...v }])),
      flush: this.flusher.stats(),
      latency: this.latency.summary(),
    };
  }

  private broker(id: string): BrokerCounters {
    let b = this.perBroker.get(id);
    if (!b) {
      b = { eventsIn: 0, greeksIn: 0, quotesIn: 0, rowsOut: 0, lastEventAt: null };
      this.perBroker.set(id, b);
    }
    return b;
  }

  private onGreeks(ev: GreeksEvent, rows: GreekSnapshot[]): void {
    if (!ev.contractKey || !Number.isFinite(ev.eventTs) || !Number.isFinite(ev.seq)) {
      this.counters.drops.invalid++;
      return;
    }
    const holders = this.holders.get(`${ev.broker}|${ev.contractKey}`);
    const accounts = ev.account ? (holders?.has(ev.account) ? [ev.account] : []) : holders ? [...holders] : [];
    if (accounts.length === 0) {
      this.counters.drops.not_held++;
      return;
    }
    const quote = this.quotes.get(`${ev.broker}|${ev.contractKey}`);
    const underlyingQuote = this.quotes.get(`${ev.broker}|${ev.underlying}`);
    const bid = ev.bid ?? quote?.bid ?? null;
    const ask = ev.ask ?? quote?.ask ?? null;
    const mark = ev.mark ?? quote?.mark ?? mid(bid, ask) ?? quote?.last ?? null;
    const underlyingPrice = ev.underlyingPrice ?? (underlyingQuote ? priceOf(underlyingQuote) : null);
    for (const account of accounts) {
      const pos = this.positions.get(`${ev.broker}|${account}`)?.get(ev.contractKey);
      if (!pos) continue;
      const streamKey = `${ev.broker}|${account}|${ev.contractKey}`;
      const verdict = this.dedupe.check(streamKey, ev.eventTs, ev.seq);
      if (verdict === 'duplicate') {
        this.counters.drops.duplicate++;
        continue;
      }
      const row: GreekSnapshot = {
        broker: ev.broker, account, contractKey: ev.contractKey, underlying: ev.underlying || pos.underlying,
        eventTs: ev.eventTs, seq: ev.seq, receivedAt: ev.receivedAt, quantity: pos.quantity, multiplier: pos.multiplier,
        bid, ask, mark, underlyingPrice,
        iv: ev.iv, delta: ev.delta, gamma: ev.gamma, theta: ev.theta, vega: ev.vega, rho: ev.rho,
      };
      rows.push(row);
      this.broker(ev.broker).rowsOut++;
      if (verdict === 'out-of-order') {
        this.counters.outOfOrder++;
        continue;
      }
      const latest: LatestGreeks = { ...row, updatedAt: ev.receivedAt };
      this.latest.set(streamKey, latest);
      for (const fn of this.listeners) fn(latest);
    }
  }

  private onQuote(ev: QuoteEvent): void {
    const key = `${ev.broker}|${ev.key}`;
    const cur = this.quotes.get(key);
    if (cur && ev.eventTs < cur.eventTs) return; // an older quote never replaces a newer one
    this.quotes.set(key, {
      bid: ev.bid ?? cur?.bid ?? null,
      ask: ev.ask ?? cur?.ask ?? null,
      last: ev.last ?? cur?.last ?? null,
      mark: ev.mark ?? null,
      eventTs: ev.eventTs,
    });
  }

  private onPositions(broker: string, account: string, positions: Position[], at: number): void {
    const key = `${broker}|${account}`;
    const prev = this.positions.get(key) ?? new Map<string, Position>();
    const next = new Map<string, Position>();
    for (const p of positions) if (p.quantity !== 0) next.set(p.contractKey, { ...p, broker, account });
    for (const ck of prev.keys()) {
      if (!next.has(ck)) {
        this.holders.get(`${broker}|${ck}`)?.delete(account);
        this.latest.delete(`${broker}|${account}|${ck}`);
      }
    }
    for (const ck of next.keys()) {
      const hk = `${broker}|${ck}`;
      let set = this.holders.get(hk);
      if (!set) this.holders.set(hk, (set = new Set()));
      set.add(account);
    }
    this.positions.set(key, next);
    this.track(this.storage.replacePositions(broker, account, [...next.values()], at));
  }

  private track(p: Promise<void>): void {
    const tracked = p.catch((err: unknown) => {
      this.counters.positionWriteErrors++;
      this.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'position/trade write failed; the next snapshot will rewrite it');
    }).finally(() => this.sideWrites.delete(tracked));
    this.sideWrites.add(tracked);
  }
}

function mid(bid: number | null, ask: number | null): number | null {
  return bid !== null && ask !== null && ask >= bid ? (bid + ask) / 2 : null;
}

function priceOf(q: QuoteState): number | null {
  return q.mark ?? mid(q.bid, q.ask) ?? q.last;
}


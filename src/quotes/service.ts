/**
 * The quote cache with freshness (specs/quotes.md): the newest of the in-memory stream quote,
 * the last REST answer and the `quotes` row answers; when it is older than QUOTE_TTL_MS (or
 * absent), the broker's REST queue is asked (coalesced, rate-limited, cooled down after 429s).
 * A REST answer is kept in memory and written to `quotes` (source `rest`), so the next lookup
 * in this process or in another one (`npm run quote` while `ingest` runs) gets it from there.
 */
import type { Logger } from 'pino';
import { sleep, type Clock } from '../core/clock.js';
import type { QuoteRow } from '../core/types.js';
import type { RestOutcome, RestQuoteQueue } from './restQueue.js';
import type { WatchSymbol } from './symbols.js';

export interface QuoteAnswer {
  symbol: string;
  bid: number | null;
  ask: number | null;
  mid: number | null;
  mark: number | null;
  last: number | null;
  /** Milliseconds since the quote was received (stream) or fetched (REST); null when there is none. */
  age_ms: number | null;
  source: 'stream' | 'rest' | null;
  broker: string | null;
  event_ts: string | null;
  received_at: string | null;
  /** True when the quote is older than the TTL (REST was asked and could not help). */
  stale: boolean;
  /** Option symbols: the latest Greeks (IV as a fraction); null when unknown. */
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  /** Why REST did not help (cooldown, 429, error, no broker): absent when the answer is fresh. */
  note?: string;
}

export interface QuoteServiceOptions {
  clock: Clock;
  ttlMs: number;
  log?: Logger;
  /** In-memory stream quotes (the processor's), when this process streams. */
  memory?: (symbols: string[]) => QuoteRow[] | Promise<QuoteRow[]>;
  /** `quotes` in the database: read for lookups, written with REST answers. */
  readQuotes?: (symbols: string[]) => Promise<QuoteRow[]>;
  writeQuotes?: (rows: QuoteRow[]) => Promise<unknown>;
  /** REST fallback per broker, in preference order (the first one asks for symbols no broker streamed). */
  queues: RestQuoteQueue[];
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString());

export class QuoteService {
  private restCache = new Map<string, QuoteRow>();

  constructor(private readonly o: QuoteServiceOptions) {}

  get ttlMs(): number {
    return this.o.ttlMs;
  }

  queues(): RestQuoteQueue[] {
    return this.o.queues;
  }

  /**
   * `waitMs` (the one-shot CLI): a symbol refused for a 429 cooldown is asked again when its
   * cooldown ends, if that is within `waitMs`; the API answers at once (0).
   */
  async lookup(symbols: WatchSymbol[], opts: { waitMs?: number } = {}): Promise<QuoteAnswer[]> {
    const deadline = this.o.clock.now() + (opts.waitMs ?? 0);
    const keys = symbols.map((s) => s.symbol);
    const best = new Map<string, QuoteRow>();
    const consider = (r: QuoteRow) => {
      const cur = best.get(r.symbol);
      if (!cur || cur.receivedAt < r.receivedAt) best.set(r.symbol, r);
    };
    for (const r of (await this.o.memory?.(keys)) ?? []) consider(r);
    for (const k of keys) {
      const r = this.restCache.get(k);
      if (r) consider(r);
    }
    const fresh = (r: QuoteRow | undefined) => !!r && this.o.clock.now() - r.receivedAt <= this.o.ttlMs;
    const needDb = keys.filter((k) => !fresh(best.get(k)));
    if (needDb.length > 0 && this.o.readQuotes) {
      try {
        for (const r of await this.o.readQuotes(needDb)) consider(r);
      } catch (err) {
        this.o.log?.warn({ err: (err as Error).message }, 'quotes: database read failed; asking REST');
      }
    }
    const stale = symbols.filter((s) => !fresh(best.get(s.symbol)));
    const outcomes = new Map<string, RestOutcome>();
    if (stale.length > 0) {
      await Promise.all(stale.map(async (s) => {
        const queue = this.queueFor(best.get(s.symbol)?.broker);
        if (!queue) {
          outcomes.set(s.symbol, { ok: false, reason: 'error', message: 'no broker with REST quotes is configured' });
          return;
        }
        let o = await queue.request(s);
        // Cooling down after a 429: wait for the end of the cooldown when the caller can.
        while (!o.ok && (o.reason === 'cooldown' || o.reason === 'rate-limited') && o.retryAt !== undefined && o.retryAt <= deadline) {
          await sleep(this.o.clock, Math.max(1, o.retryAt - this.o.clock.now() + 1));
          o = await queue.request(s);
        }
        outcomes.set(s.symbol, o);
      }));
      const got: QuoteRow[] = [];
      for (const o of outcomes.values()) {
        if (!o.ok) continue;
        got.push(o.quote);
        const cur = this.restCache.get(o.quote.symbol);
        if (!cur || cur.receivedAt < o.quote.receivedAt) this.restCache.set(o.quote.symbol, o.quote);
        consider(o.quote);
      }
      if (got.length > 0 && this.o.writeQuotes) {
        this.o.writeQuotes(got).catch((err: unknown) => this.o.log?.warn({ err: (err as Error).message }, 'quotes: could not store REST quotes'));
      }
    }
    const now = this.o.clock.now();
    return symbols.map((s) => {
      const r = best.get(s.symbol);
      const o = outcomes.get(s.symbol);
      const note = o && !o.ok ? noteOf(o, now) : undefined;
      if (!r) return { ...empty(s.symbol), ...(note ? { note } : {}) };
      const age = Math.max(0, now - r.receivedAt);
      return {
        symbol: s.symbol, bid: r.bid, ask: r.ask, mid: r.mid, mark: r.mark, last: r.last, age_ms: age, source: r.source, broker: r.broker,
        event_ts: iso(r.eventTs), received_at: iso(r.receivedAt), stale: age > this.o.ttlMs,
        iv: r.iv, delta: r.delta, gamma: r.gamma, theta: r.theta, vega: r.vega,
        ...(note ? { note } : {}),
      };
    });
  }

  close(): void {
    for (const q of this.o.queues) q.close();
  }

  private queueFor(broker: string | undefined): RestQuoteQueue | undefined {
    return this.o.queues.find((q) => q.broker === broker) ?? this.o.queues[0];
  }
}

function noteOf(o: Exclude<RestOutcome, { ok: true }>, now: number): string {
  if (o.retryAt !== undefined) return `${o.message}; REST again in ${Math.max(0, o.retryAt - now)} ms`;
  return o.message;
}

function empty(symbol: string): QuoteAnswer {
  return {
    symbol, bid: null, ask: null, mid: null, mark: null, last: null, age_ms: null, source: null, broker: null,
    event_ts: null, received_at: null, stale: true, iv: null, delta: null, gamma: null, theta: null, vega: null,
  };
}

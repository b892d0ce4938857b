/**
 * One rate-limited REST quote queue per broker (specs/quotes.md):
 *  - coalescing: a symbol already waiting for the next call, or in a call on its way, is not
 *    asked again: the new lookup shares that answer; waiting symbols go out together, up to
 *    `maxSymbolsPerCall` (Tastytrade /market-data/by-type: 100) per call;
 *  - rate: call starts are spaced by the RateGate (never more than `ratePerSec`, counted per
 *    HTTP request: a fetcher that needs a second request, like IBKR's snapshot pre-flight,
 *    takes a second slot);
 *  - cooldown: a 429 puts every symbol of that call in a cooldown of its own, exponential in
 *    the symbol's consecutive 429s and jittered (injectable randomness; Tastytrade sends no
 *    Retry-After, so none is needed), during which lookups of it get no REST call at all.
 * Every timer is on the injected clock, so the unit tests run on fake time.
 */
import type { Logger } from 'pino';
import { backoffDelay, EQUAL_JITTER, type BackoffPolicy } from '../core/backoff.js';
import { systemRandom, type Clock, type TimerHandle } from '../core/clock.js';
import type { QuoteRow } from '../core/types.js';
import type { WatchSymbol } from './symbols.js';

/** A broker's REST quote call. Throws QuoteRestError; symbols it has no quote for are left out. */
export interface RestQuoteFetcher {
  readonly broker: string;
  readonly maxSymbolsPerCall: number;
  /** `pace` must be awaited before every HTTP request after the first (the first one is paced already). */
  fetch(symbols: WatchSymbol[], pace: () => Promise<void>): Promise<QuoteRow[]>;
  close?(): void;
}

export class QuoteRestError extends Error {
  constructor(message: string, readonly status: number | null) {
    super(message);
    this.name = 'QuoteRestError';
  }
  get rateLimited(): boolean {
    return this.status === 429;
  }
}

export type RestOutcome =
  | { ok: true; quote: QuoteRow }
  | { ok: false; reason: 'cooldown' | 'rate-limited' | 'no-quote' | 'error' | 'closed'; message: string; retryAt?: number };

/** Cooldown after a 429: 1 s, 2 s, 4 s ... up to 60 s per consecutive 429 of a symbol, equal jitter. */
export const COOLDOWN_POLICY: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000, jitter: EQUAL_JITTER };

export interface RestQueueOptions {
  clock: Clock;
  log?: Logger;
  /** Most HTTP requests per second (QUOTE_REST_PER_SEC). */
  ratePerSec: number;
  random?: () => number;
  cooldown?: BackoffPolicy;
}

export interface RestQueueStats {
  /** HTTP requests made (pre-flights included). */
  calls: number;
  /** Calls answered 429. */
  rateLimited: number;
  errors: number;
  /** Symbol cooldowns opened (one per symbol per 429). */
  cooldownsOpened: number;
  /** Lookups answered from a cooldown without a call. */
  cooldownSkips: number;
  /** Lookups that joined a symbol already waiting or in flight. */
  coalesced: number;
  /** Lookups that put a symbol in the queue. */
  requested: number;
}

/** Spaces request starts: at most `ratePerSec` in any second, with a small margin for the wire. */
export class RateGate {
  private nextAt = 0;
  readonly spacingMs: number;
  constructor(private readonly clock: Clock, ratePerSec: number) {
    this.spacingMs = Math.ceil(1000 / Math.max(0.001, ratePerSec)) + 10;
  }
  /** Resolves when the next request may start (slots are handed out in call order). */
  acquire(): Promise<void> {
    const now = this.clock.now();
    const at = Math.max(now, this.nextAt);
    this.nextAt = at + this.spacingMs;
    return at <= now ? Promise.resolve() : new Promise((resolve) => void this.clock.setTimeout(resolve, at - now));
  }
}

interface Waiting {
  sym: WatchSymbol;
  resolve: Array<(o: RestOutcome) => void>;
}

export class RestQuoteQueue {
  readonly gate: RateGate;
  private readonly random: () => number;
  private readonly policy: BackoffPolicy;
  private waiting = new Map<string, Waiting>();
  private inFlight = new Map<string, Promise<RestOutcome>>();
  private cooldowns = new Map<string, { until: number; strikes: number }>();
  private pumping = false;
  private closed = false;
  private wake: TimerHandle | undefined;
  private s: RestQueueStats = { calls: 0, rateLimited: 0, errors: 0, cooldownsOpened: 0, cooldownSkips: 0, coalesced: 0, requested: 0 };

  constructor(readonly fetcher: RestQuoteFetcher, private readonly o: RestQueueOptions) {
    this.gate = new RateGate(o.clock, o.ratePerSec);
    this.random = o.random ?? systemRandom;
    this.policy = o.cooldown ?? COOLDOWN_POLICY;
  }

  get broker(): string {
    return this.fetcher.broker;
  }

  /** A REST quote for one symbol: shared with every other lookup of it that is waiting or in flight. */
  request(sym: WatchSymbol): Promise<RestOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, reason: 'closed', message: 'REST quote queue closed' });
    const now = this.o.clock.now();
    const cd = this.cooldowns.get(sym.symbol);
    if (cd && cd.until > now) {
      this.s.cooldownSkips++;
      return Promise.resolve({ ok: false, reason: 'cooldown', message: `${this.broker} REST cooldown after HTTP 429`, retryAt: cd.until });
    }
    const flying = this.inFlight.get(sym.symbol);
    if (flying) {
      this.s.coalesced++;
      return flying;
    }
    return new Promise<RestOutcome>((resolve) => {
      const w = this.waiting.get(sym.symbol);
      if (w) {
        this.s.coalesced++;
        w.resolve.push(resolve);
        return;
      }
      this.s.requested++;
      this.waiting.set(sym.symbol, { sym, resolve: [resolve] });
      void this.pump();
    });
  }

  /** Symbols in a cooldown now, with its end. */
  activeCooldowns(): { symbol: string; until: number }[] {
    const now = this.o.clock.now();
    return [...this.cooldowns].filter(([, c]) => c.until > now).map(([symbol, c]) => ({ symbol, until: c.until }));
  }

  stats(): RestQueueStats & { waiting: number; inFlight: number; activeCooldowns: number } {
    return { ...this.s, waiting: this.waiting.size, inFlight: this.inFlight.size, activeCooldowns: this.activeCooldowns().length };
  }

  close(): void {
    this.closed = true;
    this.o.clock.clearTimeout(this.wake);
    for (const w of this.waiting.values()) for (const r of w.resolve) r({ ok: false, reason: 'closed', message: 'REST quote queue closed' });
    this.waiting.clear();
    this.fetcher.close?.();
  }

  /** Sends the waiting symbols, a batch per rate slot, until none wait. One pump at a time. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.waiting.size > 0 && !this.closed) {
        await this.gate.acquire();
        if (this.closed) return;
        const batch: Waiting[] = [];
        for (const [symbol, w] of this.waiting) {
          if (batch.length >= this.fetcher.maxSymbolsPerCall) break;
          this.waiting.delete(symbol);
          batch.push(w);
        }
        if (batch.length > 0) this.launch(batch);
      }
    } finally {
      this.pumping = false;
    }
  }

  private launch(batch: Waiting[]): void {
    this.s.calls++;
    const pace = async () => {
      await this.gate.acquire();
      this.s.calls++;
    };
    const call = this.fetcher.fetch(batch.map((w) => w.sym), pace).then(
      (quotes) => ({ quotes, err: null as QuoteRestError | null }),
      (err: unknown) => ({ quotes: [] as QuoteRow[], err: err instanceof QuoteRestError ? err : new QuoteRestError(err instanceof Error ? err.message : String(err), null) }),
    );
    for (const w of batch) {
      const p = call.then(({ quotes, err }) => this.outcome(w.sym, quotes, err));
      this.inFlight.set(w.sym.symbol, p);
      void p.then((o) => {
        this.inFlight.delete(w.sym.symbol);
        for (const r of w.resolve) r(o);
      });
    }
    void call.then(({ err }) => {
      if (!err) return;
      if (err.rateLimited) {
        this.s.rateLimited++;
        this.o.log?.warn({ broker: this.broker, symbols: batch.length }, 'REST quotes answered 429: those symbols cool down');
      } else {
        this.s.errors++;
        this.o.log?.warn({ broker: this.broker, err: err.message }, 'REST quote call failed');
      }
    });
  }

  private outcome(sym: WatchSymbol, quotes: QuoteRow[], err: QuoteRestError | null): RestOutcome {
    if (err?.rateLimited) {
      const prev = this.cooldowns.get(sym.symbol);
      const strikes = (prev?.strikes ?? 0) + 1;
      const until = this.o.clock.now() + backoffDelay(strikes - 1, this.policy, this.random);
      this.cooldowns.set(sym.symbol, { until, strikes });
      this.s.cooldownsOpened++;
      return { ok: false, reason: 'rate-limited', message: err.message, retryAt: until };
    }
    if (err) return { ok: false, reason: 'error', message: err.message };
    this.cooldowns.delete(sym.symbol);
    const quote = quotes.find((q) => q.symbol === sym.symbol);
    return quote ? { ok: true, quote } : { ok: false, reason: 'no-quote', message: `${this.broker} REST has no quote for ${sym.symbol}` };
  }
}

import { describe, expect, it } from 'vitest';
import { FakeClock } from '../helpers/fake-clock.js';
import type { QuoteRow } from '../../src/core/types.js';
import { QuoteRestError, RestQuoteQueue, type RestQuoteFetcher } from '../../src/quotes/restQueue.js';
import { QuoteService } from '../../src/quotes/service.js';
import { parseSymbol, type WatchSymbol } from '../../src/quotes/symbols.js';

const row = (symbol: string, at: number, source: 'stream' | 'rest' = 'rest'): QuoteRow => ({
  symbol, broker: 'tasty', source, bid: 1, ask: 2, mid: 1.5, mark: 1.5, last: 1.5, eventTs: at, receivedAt: at,
  iv: null, delta: null, gamma: null, theta: null, vega: null,
});

/** A fetcher answering after `latencyMs` of fake time; records each call's time and symbols. */
function fakeFetcher(clock: FakeClock, opts: { latencyMs?: number; status?: () => number | null } = {}) {
  const calls: { at: number; symbols: string[] }[] = [];
  const fetcher: RestQuoteFetcher = {
    broker: 'tasty',
    maxSymbolsPerCall: 100,
    async fetch(symbols) {
      calls.push({ at: clock.now(), symbols: symbols.map((s) => s.symbol) });
      await new Promise<void>((r) => void clock.setTimeout(r, opts.latencyMs ?? 50));
      const status = opts.status?.() ?? null;
      if (status !== null) throw new QuoteRestError(`HTTP ${status}`, status);
      return symbols.map((s) => row(s.symbol, clock.now()));
    },
  };
  return { fetcher, calls };
}

const syms = (n: number): WatchSymbol[] => Array.from({ length: n }, (_, i) => parseSymbol(`S${i}`));

describe('REST quote queue', () => {
  it('1,000 stale lookups in one second are a handful of calls, never above the rate', async () => {
    const clock = new FakeClock();
    const { fetcher, calls } = fakeFetcher(clock);
    const queue = new RestQuoteQueue(fetcher, { clock, ratePerSec: 2, random: () => 0.5 });
    const service = new QuoteService({ clock, ttlMs: 3000, queues: [queue] });
    const universe = syms(150);
    const answers: Promise<unknown>[] = [];
    // 1,000 lookups of one symbol each, spread over one second of fake time.
    for (let i = 0; i < 1000; i++) {
      answers.push(service.lookup([universe[(i * 7) % universe.length]]));
      if (i % 100 === 99) await clock.advanceAsync(100, 10);
    }
    await clock.advanceAsync(3000, 50);
    const got = (await Promise.all(answers)) as { source: string; age_ms: number }[][];
    expect(got.every(([a]) => a.source === 'rest' && a.age_ms !== null)).toBe(true);
    // 150 distinct symbols need at least 2 calls (100 per call); coalescing keeps it to a handful.
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.length).toBeLessThanOrEqual(6);
    expect(Math.max(...calls.map((c) => c.symbols.length))).toBeLessThanOrEqual(100);
    for (let i = 1; i < calls.length; i++) expect(calls[i].at - calls[i - 1].at).toBeGreaterThanOrEqual(500);
    // Each symbol went into the queue once; every other lookup joined it or read its answer.
    expect(queue.stats().requested).toBe(150);
  });

  it('a 429 opens a jittered, growing cooldown per symbol: lookups meanwhile make no call', async () => {
    const clock = new FakeClock();
    let fail = true;
    const { fetcher, calls } = fakeFetcher(clock, { status: () => (fail ? 429 : null) });
    const randoms: number[] = [];
    const queue = new RestQuoteQueue(fetcher, { clock, ratePerSec: 2, random: () => { randoms.push(0); return 0; } });
    const [spy] = [parseSymbol('SPY')];
    const first = queue.request(spy);
    await clock.advanceAsync(100, 10);
    const o1 = await first;
    expect(o1).toMatchObject({ ok: false, reason: 'rate-limited' });
    const retryAt1 = (o1 as { retryAt: number }).retryAt;
    // Equal jitter with random() = 0: half of the 1 s base.
    expect(retryAt1 - clock.now()).toBeGreaterThan(0);
    // A storm of lookups inside the cooldown: answered at once, no request reaches the broker.
    const storm = await Promise.all(Array.from({ length: 200 }, () => queue.request(spy)));
    expect(storm.every((o) => !o.ok && o.reason === 'cooldown')).toBe(true);
    expect(calls.length).toBe(1);
    expect(randoms.length).toBe(1);
    // After the cooldown, one call; a second 429 doubles the nominal cooldown.
    await clock.advanceAsync(retryAt1 - clock.now() + 1, 10);
    const second = queue.request(spy);
    await clock.advanceAsync(200, 10);
    const o2 = (await second) as { retryAt: number };
    expect(calls.length).toBe(2);
    expect(o2.retryAt - clock.now()).toBeGreaterThan(retryAt1 - calls[0].at - 100);
    // The broker recovers: the next call after the cooldown succeeds and the cooldown is gone.
    fail = false;
    await clock.advanceAsync(o2.retryAt - clock.now() + 1, 10);
    const third = queue.request(spy);
    await clock.advanceAsync(200, 10);
    expect(await third).toMatchObject({ ok: true });
    expect(queue.activeCooldowns()).toEqual([]);
    expect(queue.stats()).toMatchObject({ rateLimited: 2, cooldownsOpened: 2, cooldownSkips: 200 });
  });

  it('a fresh stream quote is served without REST; a stale one is refreshed over REST', async () => {
    const clock = new FakeClock();
    const { fetcher, calls } = fakeFetcher(clock);
    const queue = new RestQuoteQueue(fetcher, { clock, ratePerSec: 2 });
    let streamAt = clock.now();
    const service = new QuoteService({ clock, ttlMs: 3000, queues: [queue], memory: (s) => s.map((k) => row(k, streamAt, 'stream')) });
    const [a] = await service.lookup([parseSymbol('XSP')]);
    expect(a).toMatchObject({ source: 'stream', stale: false });
    expect(calls.length).toBe(0);
    clock.advance(3001);
    streamAt = clock.now() - 3001; // the stream went quiet
    const pending = service.lookup([parseSymbol('XSP')]);
    await clock.advanceAsync(100, 10);
    const [b] = await pending;
    expect(b).toMatchObject({ source: 'rest', stale: false });
    expect(b.age_ms!).toBeLessThanOrEqual(3000);
    expect(calls.length).toBe(1);
    // Within the TTL the REST answer is reused: no second call.
    clock.advance(1000);
    const [c] = await service.lookup([parseSymbol('XSP')]);
    expect(c.source).toBe('rest');
    expect(calls.length).toBe(1);
  });

  it('a caller that can wait (the CLI) asks again when the cooldown ends, and gets the quote', async () => {
    const clock = new FakeClock();
    let n = 0;
    const { fetcher, calls } = fakeFetcher(clock, { status: () => (n++ === 0 ? 429 : null) });
    const queue = new RestQuoteQueue(fetcher, { clock, ratePerSec: 2, random: () => 1 });
    const service = new QuoteService({ clock, ttlMs: 3000, queues: [queue] });
    const pending = service.lookup([parseSymbol('XSP')], { waitMs: 5000 });
    await clock.advanceAsync(2000, 20);
    const [a] = await pending;
    expect(a).toMatchObject({ symbol: 'XSP', source: 'rest', stale: false });
    expect(calls.length).toBe(2);
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(1000); // after the 1 s cooldown, not before
    // Without waiting, the same situation answers at once with the reason.
    n = 0;
    clock.advance(3001);
    const [b] = await (async () => {
      const p = service.lookup([parseSymbol('XSP')]);
      await clock.advanceAsync(200, 20);
      return p;
    })();
    expect(b).toMatchObject({ source: 'rest', stale: true });
    expect(b!.note).toMatch(/429/);
  });
});

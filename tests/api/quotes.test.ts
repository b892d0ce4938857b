/** /v1/quotes and /v1/watchlist over app.inject (no database, no broker): answers, 400s, openapi, metrics. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../src/api/app.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import { systemClock } from '../../src/core/clock.js';
import { MemoryJournal } from '../../src/core/journal.js';
import type { QuoteRow } from '../../src/core/types.js';
import type { Storage } from '../../src/db/types.js';
import { QuoteRestError, RestQuoteQueue } from '../../src/quotes/restQueue.js';
import { QuoteService } from '../../src/quotes/service.js';

const log = pino({ level: 'silent' });

function memoryStorage(): Storage {
  const never = async () => {
    throw new Error('not used');
  };
  const rows = new Map<string, QuoteRow>();
  return {
    kind: 'postgres',
    writeSnapshots: async (r) => ({ inserted: r.length, duplicates: 0 }), replacePositions: async () => {}, writeTrades: async (r) => ({ inserted: r.length, duplicates: 0 }),
    latestSnapshots: never, listPositions: never, querySnapshots: never, listAlerts: never, listTrades: never, query: never,
    ensurePartitions: async () => {}, dropSnapshotsBefore: async () => [], close: async () => {},
    writeQuotes: async (r) => {
      for (const q of r) rows.set(q.symbol, q);
      return { inserted: r.length, duplicates: 0 };
    },
    readQuotes: async (s) => s.map((k) => rows.get(k)).filter((q): q is QuoteRow => !!q),
  };
}

describe('quote routes (app.inject)', () => {
  let app: FastifyInstance;
  let pipeline: Pipeline;
  const asked: string[][] = [];
  beforeAll(async () => {
    const storage = memoryStorage();
    pipeline = new Pipeline({ storage, config: readAppConfig({}), log, journal: new MemoryJournal() });
    const queue = new RestQuoteQueue({
      broker: 'tasty', maxSymbolsPerCall: 100,
      async fetch(symbols) {
        asked.push(symbols.map((s) => s.symbol));
        if (symbols.some((s) => s.symbol === 'BUSY')) throw new QuoteRestError('HTTP 429', 429);
        const now = systemClock.now();
        return symbols.map((s) => ({ symbol: s.symbol, broker: 'tasty', source: 'rest' as const, bid: 10, ask: 10.2, mid: 10.1, mark: 10.1, last: 10.1, eventTs: now, receivedAt: now, iv: null, delta: null, gamma: null, theta: null, vega: null }));
      },
    }, { clock: systemClock, ratePerSec: 1000 });
    const quotes = new QuoteService({ clock: systemClock, ttlMs: 3000, queues: [queue], memory: (s) => pipeline.processor.latestQuotes(s), readQuotes: storage.readQuotes, writeQuotes: storage.writeQuotes });
    app = await buildApi({ pipeline, storage, log, quotes });
  });
  afterAll(async () => {
    await app.close();
    await pipeline.stop(100);
  });

  it('GET /v1/quotes answers bid, ask, mid, mark, age_ms and source per symbol (canonical keys)', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/quotes?symbols=spy,SPY251219C00500000' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.ttl_ms).toBe(3000);
    expect(body.quotes.map((q: { symbol: string }) => q.symbol)).toEqual(['SPY', 'SPY   251219C00500000']);
    expect(body.quotes[0]).toMatchObject({ bid: 10, ask: 10.2, mid: 10.1, mark: 10.1, source: 'rest', broker: 'tasty', stale: false });
    expect(typeof body.quotes[0].age_ms).toBe('number');
    expect(asked).toEqual([['SPY', 'SPY   251219C00500000']]); // one call for both
    // A second lookup within the TTL is served from the cache: no call.
    await app.inject({ method: 'GET', url: '/v1/quotes?symbols=SPY' });
    expect(asked).toHaveLength(1);
  });

  it('a symbol cooling down after a 429 says so, with no quote rather than a made-up one', async () => {
    const res = await app.inject({ method: 'GET', url: '/v1/quotes?symbols=BUSY' });
    expect(res.json().quotes[0]).toMatchObject({ symbol: 'BUSY', source: null, bid: null, stale: true });
    expect(res.json().quotes[0].note).toMatch(/429/);
    const again = await app.inject({ method: 'GET', url: '/v1/quotes?symbols=BUSY' });
    expect(again.json().quotes[0].note).toMatch(/cooldown/);
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/riskwire_quote_rest_429_total\{broker="tasty"\} 1/);
    expect(metrics.body).toMatch(/riskwire_quote_cooldowns_active\{broker="tasty"\} 1/);
    expect(metrics.body).toMatch(/riskwire_quote_rest_calls_total\{broker="tasty"\} 2/);
  });

  it('bad queries and bodies are 400s with the reason', async () => {
    const cases: [string, string, unknown, RegExp][] = [
      ['GET', '/v1/quotes', undefined, /symbols must be a comma list/],
      ['GET', '/v1/quotes?symbols=S%20P%20Y%24', undefined, /is not a symbol/],
      ['POST', '/v1/watchlist', { symbol: 'SPY' }, /symbols must be a list/],
      ['POST', '/v1/watchlist', { symbols: ['SPY'], extra: 1 }, /unknown field extra/],
      ['POST', '/v1/watchlist', { symbols: [] }, /symbols must be a list/],
      ['POST', '/v1/watchlist', { symbols: 'SPY' }, /symbols must be a list/],
      ['POST', '/v1/watchlist', { symbols: ['/ES'] }, /is not a symbol/],
      ['DELETE', '/v1/watchlist', { symbols: [42] }, /every symbol must be a string/],
    ];
    for (const [method, url, payload, re] of cases) {
      const res = await app.inject({ method: method as 'GET', url, ...(payload !== undefined ? { payload: payload as object } : {}) });
      expect(res.statusCode, `${method} ${url} ${JSON.stringify(payload)}`).toBe(400);
      expect(res.json().error).toMatch(re);
    }
  });

  it('POST/DELETE /v1/watchlist change the watchlist the actors get and the status reports', async () => {
    let res = await app.inject({ method: 'POST', url: '/v1/watchlist', payload: { symbols: ['SPY', 'xsp', '/ESH7'] } });
    expect(res.statusCode).toBe(200);
    expect(res.json().symbols.map((s: { symbol: string; kind: string }) => `${s.symbol}:${s.kind}`)).toEqual(['SPY:equity', 'XSP:index', '/ESH7:future']);
    expect(pipeline.supervisor.currentWatchlist().map((w) => w.symbol)).toEqual(['SPY', 'XSP', '/ESH7']);
    res = await app.inject({ method: 'DELETE', url: '/v1/watchlist', payload: { symbols: ['SPY'] } });
    expect(res.json().symbols.map((s: { symbol: string }) => s.symbol)).toEqual(['XSP', '/ESH7']);
    const status = (await app.inject({ method: 'GET', url: '/v1/streaming/status' })).json();
    expect(status.watchlist.map((w: { symbol: string; stale: boolean }) => [w.symbol, w.stale])).toEqual([['XSP', true], ['/ESH7', true]]);
    expect((await app.inject({ method: 'GET', url: '/v1/watchlist' })).json().count).toBe(2);
  });

  it('/openapi.json describes the quote and watchlist routes', async () => {
    const paths = Object.keys((await app.inject({ method: 'GET', url: '/openapi.json' })).json().paths);
    expect(paths).toEqual(expect.arrayContaining(['/v1/quotes', '/v1/watchlist']));
  });
});

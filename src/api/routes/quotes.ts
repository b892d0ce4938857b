/**
 * /v1/quotes (the quote cache with freshness: stream, else REST past QUOTE_TTL_MS) and
 * /v1/watchlist (symbols streamed whether held or not; changes reach the running actors at once).
 * specs/quotes.md.
 */
import type { FastifyInstance } from 'fastify';
import { ConfigError } from '../../core/errors.js';
import type { QuoteService } from '../../quotes/service.js';
import { indexSymbols, parseSymbol, type WatchSymbol } from '../../quotes/symbols.js';
import type { ApiDeps } from '../app.js';
import { badRequest } from '../errors.js';
import { MAX_QUOTE_SYMBOLS, QUOTES_QUERY, WATCHLIST_BODY_SCHEMA } from '../schemas/quotes.js';
import { validator } from '../validation.js';

const checkWatchBody = validator(WATCHLIST_BODY_SCHEMA, 'body');

function parseAll(raw: string[]): WatchSymbol[] {
  const indices = indexSymbols(process.env);
  const out = new Map<string, WatchSymbol>();
  for (const r of raw) {
    try {
      const w = parseSymbol(r, indices);
      out.set(w.symbol, w);
    } catch (err) {
      throw badRequest(err instanceof ConfigError ? err.message : String(err));
    }
  }
  return [...out.values()];
}

const watchJson = (list: WatchSymbol[]) => ({ count: list.length, symbols: list.map((w) => ({ symbol: w.symbol, kind: w.kind, underlying: w.underlying })) });

export function registerQuotes(app: FastifyInstance, deps: ApiDeps, quotes: () => QuoteService): void {
  const { processor, supervisor } = deps.pipeline;
  const setWatchlist = async (list: WatchSymbol[]) => {
    processor.setWatchlist(list.map((w) => w.symbol));
    await supervisor.setWatchlist(list);
  };

  app.get('/v1/quotes', {
    schema: { summary: 'Latest quote per symbol with age and source (stream, or REST when older than QUOTE_TTL_MS)', tags: ['quotes'], querystring: QUOTES_QUERY },
  }, async (req) => {
    const raw = String((req.query as { symbols: string }).symbols).split(',').map((s) => s.trim()).filter(Boolean);
    if (raw.length === 0) throw badRequest('symbols must name at least one symbol, e.g. symbols=SPY,XSP');
    if (raw.length > MAX_QUOTE_SYMBOLS) throw badRequest(`symbols names ${raw.length} symbols: at most ${MAX_QUOTE_SYMBOLS} per request`);
    const service = quotes();
    const answers = await service.lookup(parseAll(raw));
    return { ttl_ms: service.ttlMs, count: answers.length, quotes: answers };
  });

  app.get('/v1/watchlist', { schema: { summary: 'The watched symbols (WATCHLIST, then POST/DELETE /v1/watchlist)', tags: ['quotes'] } }, async () =>
    watchJson(supervisor.currentWatchlist()));

  app.post('/v1/watchlist', { schema: { summary: 'Add symbols to the watchlist: streamed at every running broker whether held or not', tags: ['quotes'], body: WATCHLIST_BODY_SCHEMA } }, async (req) => {
    checkWatchBody(req.body);
    const add = parseAll((req.body as { symbols: string[] }).symbols);
    const list = [...new Map([...supervisor.currentWatchlist(), ...add].map((w) => [w.symbol, w])).values()];
    await setWatchlist(list);
    req.log.info({ added: add.map((w) => w.symbol), total: list.length }, 'watchlist changed');
    return watchJson(list);
  });

  app.delete('/v1/watchlist', { schema: { summary: 'Remove symbols from the watchlist', tags: ['quotes'], body: WATCHLIST_BODY_SCHEMA } }, async (req) => {
    checkWatchBody(req.body);
    const drop = new Set(parseAll((req.body as { symbols: string[] }).symbols).map((w) => w.symbol));
    const list = supervisor.currentWatchlist().filter((w) => !drop.has(w.symbol));
    await setWatchlist(list);
    req.log.info({ removed: [...drop], total: list.length }, 'watchlist changed');
    return watchJson(list);
  });
}

/**
 * npm run quote -- SYMBOL... [--json]: the latest quote per symbol with its age and source, from
 * the `quotes` table (kept current by a running ingest/serve/demo, even in another process);
 * a quote older than QUOTE_TTL_MS, or none, is fetched over REST from the configured brokers
 * (rate-limited, coalesced, 429 cooldown) and written back to `quotes` for the next caller.
 * specs/quotes.md, decision D62.
 */
import { DEMO_FLAG_HELP, openTargetStorage, resolveDataTarget } from '../app/target.js';
import { readAppConfig } from '../app/config.js';
import { systemClock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import type { Storage } from '../db/types.js';
import type { QuoteAnswer } from '../quotes/service.js';
import { configuredRestBrokers, createQuoteService, REST_QUOTE_BROKERS } from '../quotes/setup.js';
import { indexSymbols, parseSymbol } from '../quotes/symbols.js';
import { grid } from '../risk/format.js';
import { durationMs, parseArgs } from './args.js';

export const QUOTE_HELP = `Usage: npm run quote -- SYMBOL... [--json] [--broker=tasty,ibkr]

The latest quote of each symbol: bid, ask, mid, mark, age_ms and source (stream or rest).
Quotes come from the database's quotes table, which a running ingest / serve / demo keeps
current for every streamed symbol (held or on the WATCHLIST). A quote older than QUOTE_TTL_MS
(default 3000), or none at all, is fetched over REST from the brokers whose credentials are
configured (Tastytrade /market-data/by-type; IBKR Client Portal /iserver/marketdata/snapshot),
at most QUOTE_REST_PER_SEC requests a second per broker, and stored for the next caller.

Symbols: tickers (SPY, SPX, XSP), futures (/ESH7), OCC options ("SPY   251219C00500000" or
SPY251219C00500000).

  --json          one JSON object per symbol per line (symbol, bid, ask, mid, mark, last,
                  age_ms, source, broker, event_ts, received_at, stale, iv, delta, gamma,
                  theta, vega; note when REST could not help)
  --broker=LIST   REST brokers to ask, in order (default every configured one: tasty, ibkr)
  --wait=D        a symbol in a 429 cooldown is asked again when the cooldown ends within D
                  (default 5s; 0 = answer at once with the last quote known, marked stale)
  ${DEMO_FLAG_HELP}
  --help          this text

Exit code 0 when every symbol has a quote (fresh or not), 1 when some has none, 2 on bad input.`;

/** Symbols are the positional arguments; everything starting with -- is a flag. */
export function splitArgs(argv: string[]): { symbols: string[]; flags: string[] } {
  const symbols: string[] = [];
  const flags: string[] = [];
  for (const a of argv) (a.startsWith('--') ? flags : symbols).push(a);
  return { symbols, flags };
}

export async function runQuote(argv: string[]): Promise<number> {
  const { symbols: raw, flags: flagArgs } = splitArgs(argv);
  const flags = parseArgs(flagArgs, 'quote', { help: 'boolean', json: 'boolean', broker: 'string', demo: 'boolean', wait: 'string' });
  if (flags.help) {
    process.stdout.write(`${QUOTE_HELP}\n`);
    return 0;
  }
  if (raw.length === 0) throw new ConfigError('name at least one symbol: npm run quote -- SPY XSP (see npm run quote -- --help)');
  const indices = indexSymbols(process.env);
  const symbols = [...new Map(raw.flatMap((r) => r.split(',')).filter((r) => r.trim()).map((r) => parseSymbol(r, indices)).map((w) => [w.symbol, w])).values()];
  const brokers = typeof flags.broker === 'string' ? flags.broker.split(',').map((b) => b.trim()).filter(Boolean) : undefined;
  for (const b of brokers ?? []) {
    if (!(REST_QUOTE_BROKERS as readonly string[]).includes(b)) throw new ConfigError(`--broker=${b} has no REST quotes: use ${REST_QUOTE_BROKERS.join(', ')}`);
  }
  const waitMs = durationMs(flags, 'wait', 5_000)!;
  const config = readAppConfig();
  const log = createLogger({ name: 'quote', level: process.env.LOG_LEVEL ?? 'warn' });
  let storage: Storage | null = null;
  try {
    storage = await openTargetStorage(resolveDataTarget({ demo: flags.demo === true }), log);
  } catch (err) {
    // No database (or a PGlite folder another process holds): REST alone still answers.
    log.warn({ err: (err as Error).message }, 'quote: database not available; asking REST only');
  }
  let pendingWrite: Promise<unknown> = Promise.resolve();
  const service = createQuoteService({
    env: process.env, clock: systemClock, log, ttlMs: config.quoteTtlMs ?? 3000, ratePerSec: config.quoteRestPerSec ?? 2, brokers,
    readQuotes: storage?.readQuotes?.bind(storage),
    // Awaited below: the REST answers reach the table before the process exits.
    writeQuotes: storage?.writeQuotes ? (rows) => (pendingWrite = storage!.writeQuotes!(rows)) : undefined,
  });
  try {
    if (service.queues().length === 0 && configuredRestBrokers(process.env).length === 0) {
      log.info('quote: no broker credentials configured; stale quotes cannot be refreshed over REST');
    }
    const answers = await service.lookup(symbols, { waitMs });
    await pendingWrite.catch(() => undefined);
    if (flags.json) for (const a of answers) process.stdout.write(`${JSON.stringify(a)}\n`);
    else process.stdout.write(`${quoteTable(answers)}\n`);
    return answers.every((a) => a.source !== null) ? 0 : 1;
  } finally {
    service.close();
    await storage?.close();
  }
}

const px = (n: number | null) => (n === null ? '-' : Math.abs(n) >= 1000 ? n.toFixed(2) : n.toFixed(n < 1 ? 4 : 3));

export function quoteTable(answers: QuoteAnswer[]): string {
  return grid(['symbol', 'bid', 'ask', 'mid', 'mark', 'age_ms', 'source', 'broker', 'note'],
    answers.map((a) => [a.symbol, px(a.bid), px(a.ask), px(a.mid), px(a.mark), a.age_ms === null ? '-' : String(a.age_ms), a.source ?? '-', a.broker ?? '-', a.note ?? (a.stale ? 'stale' : '')]),
    [false, true, true, true, true, true, false, false, false]);
}

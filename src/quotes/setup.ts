/**
 * Builds the quote service of a process from its configuration: one REST queue per broker
 * whose credentials are configured (Tastytrade: TASTY_CLIENT_SECRET + TASTY_REFRESH_TOKEN;
 * IBKR: IBKR_GATEWAY_URL with the cpapi transport), in the order asked (default tasty, ibkr).
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { systemRandom } from '../core/clock.js';
import { parseIbkrConfig } from '../brokers/ibkr/config.js';
import { parseTastyConfig } from '../brokers/tasty/config.js';
import type { QuoteRow } from '../core/types.js';
import { createIbkrQuoteFetcher } from './ibkrRest.js';
import { RestQuoteQueue } from './restQueue.js';
import { QuoteService } from './service.js';
import { createTastyQuoteFetcher } from './tastyRest.js';

export const REST_QUOTE_BROKERS = ['tasty', 'ibkr'] as const;

export interface QuoteSetup {
  env: Record<string, string | undefined>;
  clock: Clock;
  log: Logger;
  ttlMs: number;
  ratePerSec: number;
  /** Brokers to ask over REST, in order; default every configured one (tasty, then ibkr). */
  brokers?: string[];
  memory?: (symbols: string[]) => QuoteRow[] | Promise<QuoteRow[]>;
  readQuotes?: (symbols: string[]) => Promise<QuoteRow[]>;
  writeQuotes?: (rows: QuoteRow[]) => Promise<unknown>;
  random?: () => number;
}

export function configuredRestBrokers(env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  if (env.TASTY_CLIENT_SECRET?.trim() && env.TASTY_REFRESH_TOKEN?.trim()) out.push('tasty');
  if (env.IBKR_GATEWAY_URL?.trim() && String(env.IBKR_TRANSPORT ?? 'cpapi').toLowerCase() === 'cpapi') out.push('ibkr');
  return out;
}

export function restQueues(s: QuoteSetup): RestQuoteQueue[] {
  const configured = configuredRestBrokers(s.env);
  const wanted = (s.brokers && s.brokers.length > 0 ? s.brokers : [...REST_QUOTE_BROKERS]).filter((b) => configured.includes(b));
  const opts = { clock: s.clock, log: s.log, ratePerSec: s.ratePerSec, random: s.random ?? systemRandom };
  return wanted.map((b) =>
    new RestQuoteQueue(b === 'tasty' ? createTastyQuoteFetcher(parseTastyConfig(s.env), s.clock) : createIbkrQuoteFetcher(parseIbkrConfig(s.env), s.clock), opts),
  );
}

export function createQuoteService(s: QuoteSetup): QuoteService {
  return new QuoteService({
    clock: s.clock, ttlMs: s.ttlMs, log: s.log, memory: s.memory, readQuotes: s.readQuotes, writeQuotes: s.writeQuotes, queues: restQueues(s),
  });
}

/** Quote metrics: REST calls, 429s and cooldowns per broker queue; the age of each watched symbol's quote. */
import type { RestQuoteQueue } from '../../quotes/restQueue.js';
import { pulledCounter, pulledGauge, type Registry, type Sample } from './registry.js';

export interface QuoteMetricsInput {
  queues: () => RestQuoteQueue[];
  /** Watched symbols and the age of their newest quote (ms; null when none yet). */
  freshness: () => { symbol: string; ageMs: number | null }[];
}

export function registerQuoteMetrics(registry: Registry, input: QuoteMetricsInput): void {
  const per = (f: (q: RestQuoteQueue) => number) => (): Sample[] => input.queues().map((q) => [{ broker: q.broker }, f(q)]);
  pulledCounter(registry, { name: 'riskwire_quote_rest_calls_total', help: 'REST quote requests made (pre-flights included)', labelNames: ['broker'], read: per((q) => q.stats().calls) });
  pulledCounter(registry, { name: 'riskwire_quote_rest_429_total', help: 'REST quote calls answered HTTP 429', labelNames: ['broker'], read: per((q) => q.stats().rateLimited) });
  pulledCounter(registry, { name: 'riskwire_quote_rest_errors_total', help: 'REST quote calls that failed otherwise', labelNames: ['broker'], read: per((q) => q.stats().errors) });
  pulledCounter(registry, { name: 'riskwire_quote_cooldowns_opened_total', help: 'Per-symbol REST cooldowns opened by a 429', labelNames: ['broker'], read: per((q) => q.stats().cooldownsOpened) });
  pulledCounter(registry, { name: 'riskwire_quote_cooldown_skips_total', help: 'Stale lookups answered without REST because the symbol was cooling down', labelNames: ['broker'], read: per((q) => q.stats().cooldownSkips) });
  pulledCounter(registry, { name: 'riskwire_quote_rest_coalesced_total', help: 'Lookups that joined a REST request already waiting or in flight', labelNames: ['broker'], read: per((q) => q.stats().coalesced) });
  pulledGauge(registry, { name: 'riskwire_quote_cooldowns_active', help: 'Symbols in a REST cooldown now', labelNames: ['broker'], read: per((q) => q.stats().activeCooldowns) });
  pulledGauge(registry, {
    name: 'riskwire_quote_age_seconds', help: 'Age of the newest streamed quote of each watched symbol', labelNames: ['symbol'],
    read: () => input.freshness().filter((f) => f.ageMs !== null).map((f) => [{ symbol: f.symbol }, f.ageMs! / 1000]),
  });
}

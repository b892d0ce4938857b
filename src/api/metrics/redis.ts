/** riskwire_redis_* : the optional Redis fan-out (src/redis/sink.ts), registered only with REDIS_URL. */
import type { Registry } from 'prom-client';
import type { RedisSinkStats } from '../../redis/sink.js';
import { pulledCounter, pulledGauge, type Sample } from './registry.js';

export function registerRedisMetrics(registry: Registry, read: () => RedisSinkStats): void {
  const one = (f: (s: RedisSinkStats) => number) => (): Sample[] => [[{}, f(read())]];
  pulledGauge(registry, { name: 'riskwire_redis_up', help: 'Redis fan-out connected and ready (1) or not (0).', read: one((s) => (s.up ? 1 : 0)) });
  pulledGauge(registry, { name: 'riskwire_redis_pending_keys', help: 'Keys whose latest value is waiting for the next flush (or for Redis to come back).', read: one((s) => s.pendingKeys) });
  pulledGauge(registry, {
    name: 'riskwire_redis_last_flush_timestamp_seconds', help: 'When the last pipeline to Redis succeeded (unix seconds; absent before the first).',
    read: () => { const s = read(); return s.lastFlushAt === null ? [] : [[{}, s.lastFlushAt / 1000]]; },
  });
  pulledCounter(registry, {
    name: 'riskwire_redis_updates_total', help: 'Updates offered to the Redis fan-out, by kind (price, greeks, risk).', labelNames: ['kind'],
    read: () => Object.entries(read().updates).map(([kind, n]) => [{ kind }, n]),
  });
  pulledCounter(registry, { name: 'riskwire_redis_conflated_total', help: 'Updates replaced by a newer one of the same key before a flush (Redis up).', read: one((s) => s.conflated) });
  pulledCounter(registry, { name: 'riskwire_redis_dropped_total', help: 'Updates never sent because Redis was unavailable (superseded during the outage or past the key bound).', read: one((s) => s.dropped) });
  pulledCounter(registry, { name: 'riskwire_redis_keys_written_total', help: 'Keys written to Redis.', read: one((s) => s.keysWritten) });
  pulledCounter(registry, { name: 'riskwire_redis_published_total', help: 'Messages published (price.updated, risk.updated).', read: one((s) => s.published) });
  pulledCounter(registry, { name: 'riskwire_redis_flushes_total', help: 'Pipelines Redis accepted.', read: one((s) => s.flushes) });
  pulledCounter(registry, { name: 'riskwire_redis_flush_errors_total', help: 'Pipelines that failed (their keys are pending again).', read: one((s) => s.flushErrors) });
  pulledCounter(registry, { name: 'riskwire_redis_reconnects_total', help: 'Reconnections after an outage (each rewrites the latest state).', read: one((s) => s.reconnects) });
}

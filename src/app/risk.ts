/**
 * Wires the risk engine to a running pipeline (serve, ingest, demo): live state from the
 * processor, every new latest snapshot nudges the alert loop, actor states feed broker-down.
 * Rules are read and validated by the caller at start (loadRules), before anything opens.
 */
import type { Logger } from 'pino';
import { systemClock, type Clock } from '../core/clock.js';
import type { Storage } from '../db/types.js';
import { processorLiveState } from '../risk/live.js';
import type { RiskRules } from '../risk/rules.js';
import { RiskService } from '../risk/service.js';
import { feedRisk } from '../redis/wire.js';
import type { Pipeline } from './pipeline.js';

export interface RiskWiring {
  service: RiskService;
  stop(): void;
}

export async function startRisk(
  pipeline: Pick<Pipeline, 'processor' | 'supervisor'> & Partial<Pick<Pipeline, 'redis'>>, storage: Storage, log: Logger,
  o: { rules: RiskRules; benchmark: string; webhookUrl?: string; clock?: Clock },
): Promise<RiskWiring> {
  const clock = o.clock ?? systemClock;
  const service = new RiskService({
    storage, rules: o.rules, benchmark: o.benchmark, clock, log, webhookUrl: o.webhookUrl,
    live: processorLiveState(pipeline.processor, clock),
    feeds: () => pipeline.supervisor.status().map((a) => ({ broker: a.broker, state: a.state })),
  });
  await service.start();
  const off = pipeline.processor.onLatest((s) => service.notify(s));
  // The alert loop's report (every 1 s) is what the Redis fan-out publishes: no extra evaluation.
  const offRedis = pipeline.redis ? feedRisk(pipeline.redis, () => service.latestReport(), clock) : undefined;
  return {
    service,
    stop: () => {
      off();
      offRedis?.();
      service.close();
    },
  };
}

/**
 * ingest has no alert loop; with REDIS_URL the fan-out still gets the risk summary and P&L per
 * position: a report from the engine's cached inputs (database every 30 s + live overlay) each second.
 */
export function riskForRedis(
  pipeline: Pick<Pipeline, 'processor' | 'supervisor' | 'redis'>, storage: Storage, log: Logger,
  o: { rules: RiskRules; benchmark: string; clock?: Clock },
): (() => void) | undefined {
  if (!pipeline.redis) return undefined;
  const clock = o.clock ?? systemClock;
  const service = new RiskService({ storage, rules: o.rules, benchmark: o.benchmark, clock, log, live: processorLiveState(pipeline.processor, clock) });
  return feedRisk(pipeline.redis, () => service.report({}, false), clock);
}

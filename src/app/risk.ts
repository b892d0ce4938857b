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
import type { Pipeline } from './pipeline.js';

export interface RiskWiring {
  service: RiskService;
  stop(): void;
}

export async function startRisk(
  pipeline: Pick<Pipeline, 'processor' | 'supervisor'>, storage: Storage, log: Logger,
  o: { rules: RiskRules; benchmark: string; webhookUrl?: string; clock?: Clock },
): Promise<RiskWiring> {
  const clock = o.clock ?? systemClock;
  const service = new RiskService({
    storage, rules: o.rules, benchmark: o.benchmark, clock, log, webhookUrl: o.webhookUrl,
    live: processorLiveState(pipeline.processor, clock),
    feeds: () => pipeline.supervisor.status().map((a) => ({ broker: a.broker, state: a.state })),
  });
  await service.start();
  const off = pipeline.processor.onLatest(() => service.notify());
  return {
    service,
    stop: () => {
      off();
      service.close();
    },
  };
}

/** GET /metrics: the pipeline families (pipeline.ts) plus prom-client's process metrics (registry.ts). */
import { Registry } from 'prom-client';
import { registerPipelineMetrics, type MetricsInput } from './metrics/pipeline.js';

export { METRICS_CONTENT_TYPE, pulledCounter, pulledGauge, processMetrics, renderWithProcess, Counter, Gauge, Histogram, Registry } from './metrics/registry.js';
export type { Labels, PulledMetric, Sample } from './metrics/registry.js';
export { registerPipelineMetrics, type MetricsInput } from './metrics/pipeline.js';

/** The pipeline families for one fixed input, as exposition text (tests, one-off dumps). */
export async function renderMetrics(input: MetricsInput): Promise<string> {
  const registry = new Registry();
  registerPipelineMetrics(registry, () => input);
  return registry.metrics();
}

/**
 * The metrics registry behind GET /metrics (prom-client). One Registry per API instance holds
 * the riskwire_* families; the process-wide default metrics (RSS, heap, event-loop lag, GC,
 * CPU, handles) live in one shared registry made once per process and are merged in at
 * scrape time.
 *
 * Adding a metric elsewhere (risk gauges, writer counters...):
 *   - a value you already keep somewhere and read at scrape time:
 *       pulledGauge(registry, { name: 'riskwire_x', help: '...', labelNames: ['underlying'],
 *                               read: () => [[{ underlying: 'SPY' }, 42]] })
 *     (pulledCounter the same for monotonic totals);
 *   - an event you count where it happens: new Counter({ name, help, registers: [registry] }).inc()
 * Names: riskwire_<what>[_<unit>][_total], Prometheus base units (seconds, bytes).
 */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const METRICS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export type Labels = Record<string, string>;
export type Sample = [labels: Labels, value: number];

export interface PulledMetric {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** Called on every scrape; returns the current samples. */
  read: () => Sample[];
}

/** A gauge whose samples are read from elsewhere at scrape time (absent labels = not exported). */
export function pulledGauge(registry: Registry, m: PulledMetric): Gauge {
  return new Gauge({
    name: m.name, help: m.help, labelNames: m.labelNames ?? [], registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of m.read()) this.set(labels, value);
    },
  });
}

/** A counter whose running totals are kept elsewhere (the processor's stats) and read at scrape time. */
export function pulledCounter(registry: Registry, m: PulledMetric): Counter {
  return new Counter({
    name: m.name, help: m.help, labelNames: m.labelNames ?? [], registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of m.read()) this.inc(labels, Math.max(0, value));
    },
  });
}

let processRegistry: Registry | undefined;

/** prom-client's default metrics (process_resident_memory_bytes, nodejs_heap_*, nodejs_eventloop_lag_*, nodejs_gc_duration_seconds ...), made once per process. */
export function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, eventLoopMonitoringPrecision: 20 });
  }
  return processRegistry;
}

/**
 * The exposition text of `registry` plus the process metrics. prom-client writes NaN as "Nan"
 * (the event-loop lag before its first sample); the format spells it NaN.
 */
export async function renderWithProcess(registry: Registry): Promise<string> {
  return (await Registry.merge([processMetrics(), registry]).metrics()).replace(/ Nan$/gm, ' NaN');
}

import { describe, expect, it } from 'vitest';
import { Counter, Registry, pulledGauge, renderWithProcess } from '../../src/api/metrics.js';
import { parsePrometheus } from './prometheus.js';

describe('metrics registry (prom-client)', () => {
  it('adds the process metrics: RSS, heap, event-loop lag, GC', async () => {
    const { types, samples } = parsePrometheus(await renderWithProcess(new Registry()));
    for (const name of ['process_resident_memory_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_gc_duration_seconds']) {
      expect(types[name], name).toBeDefined();
    }
    expect(samples.find((s) => s.name === 'process_resident_memory_bytes')!.value).toBeGreaterThan(1_000_000);
  });

  it('lets other modules add a gauge read at scrape time and a counter they increment', async () => {
    const registry = new Registry();
    let delta = 12.5;
    pulledGauge(registry, { name: 'riskwire_test_delta', help: 'A test gauge.', labelNames: ['underlying'], read: () => [[{ underlying: 'SPY' }, delta]] });
    const writes = new Counter({ name: 'riskwire_test_writes_total', help: 'A test counter.', registers: [registry] });
    writes.inc(3);
    const value = async (name: string) => parsePrometheus(await renderWithProcess(registry)).samples.find((s) => s.name === name)?.value;
    expect(await value('riskwire_test_delta')).toBe(12.5);
    delta = -4;
    expect(await value('riskwire_test_delta')).toBe(-4);
    expect(await value('riskwire_test_writes_total')).toBe(3);
  });
});

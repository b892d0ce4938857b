import { writeFileSync } from 'node:fs';
import type { Pipeline } from '../app/pipeline.js';
import { durationMs, intFlag, parseArgs } from '../cli/args.js';
import { createLogger } from '../core/logger.js';
import { openStorage } from '../db/index.js';
import { table } from '../cli/output.js';
import { rawCopy } from './copy.js';
import { freshBenchDatabase } from './database.js';
import { PeakMemory } from './memory.js';
import { dxlinkMax, latencyAt, medianOf, simMax, workersOf } from './scenarios.js';
import { apiAB, renderApiAB } from './apiReport.js';
import { alertCpuAB, riskComputeBench } from './risk.js';

export const BENCH_HELP = `Usage: npm run bench -- [--quick] [--json FILE] [--rows=N] [--seconds=S] [--api-only] [--api-pairs=N] [--api-rate=N] [--api-compare]
       npm run bench -- --scale [--quick] [--json FILE] [--scale-only=history,cluster,book] [--history-rows=N]

Throughput and latency of the whole pipeline, in one run on this machine, into a fresh
scratch database on DATABASE_URL's PostgreSQL server (created and dropped by the run):
  1. raw limit: COPY of synthetic snapshot rows (same columns and key)
  2. pipeline maximum via the in-worker sim broker (no sockets), and via the Tastytrade
     simulator over loopback (DXLink → real tasty actor), each as a ratio of the raw rate
  3. latency received→persisted p50/p95/p99 at 100, 1,000 and 10,000 events/s
  4. peak RSS of the process and peak heap of each worker; rows lost (must be 0)
  5. API load A/B: persist latency p95 of the sim at --api-rate events/s without and with
     2,000 GETs at concurrency 100 (status, snapshots, timeline) from another process, with
     the API as served (API_MAX_CONCURRENT, request/statement timeouts, its own read pool);
     --api-compare adds one pair without back-pressure (no limit, reads on the writer's pool)
  6. risk engine: CPU time of the \`risk --json\` document for 5,000 positions (budget 200 ms)
     and of the what-if grid; extra pipeline CPU of the alert loop at 1,000 events/s (A/B,
     budget 5 %)
Absolute numbers drift between machines and runs: compare the ratios.

  --quick        a shorter run (under 45 s)
  --json FILE    also write the figures as JSON
  --rows=N       rows for the raw and sim-maximum runs (default 200000, quick 50000)
  --seconds=S    seconds per latency / loopback run (default 12, quick 4)
  --api-only     only the API load A/B (5)
  --api-pairs=N  A/B pairs per variant (default 5, quick 2)
  --api-rate=N   sim events/s during the A/B (default 1000)
  --api-compare  also the API without back-pressure (one pair; takes minutes)
  --scale        instead of the above, the scale scenarios (issue 15 items 2-4, src/bench/scale.ts):
                 history (10 M rows: timeline day/month vs a naive GROUP BY), cluster (lease
                 takeover of a killed ingest --cluster process), book.* (big books); JSON keys
                 history.*, cluster.*, book.*. Heavy: minutes, about 2 GB of scratch database
  --scale-only=K with --scale: only these sections (comma-separated keys)
  --history-rows=N  with --scale: rows of generated history (default 10000000, quick 500000)
  --help         this text`;

export async function runBench(argv: string[]): Promise<number> {
  const flags = parseArgs(argv, 'bench', ['help', 'quick', 'json', 'rows', 'seconds', 'api-only', 'api-pairs', 'api-rate', 'api-compare', 'scale', 'scale-only', 'history-rows']);
  if (flags.help) {
    process.stdout.write(`${BENCH_HELP}\n`);
    return 0;
  }
  const quick = Boolean(flags.quick);
  if (flags.scale) {
    if (!process.env.DATABASE_URL) await freshBenchDatabase(undefined); // the one-line ConfigError
    const { runScale } = await import('./scale.js');
    const only = typeof flags['scale-only'] === 'string' ? flags['scale-only'].split(',').map((k) => k.trim()).filter(Boolean) : undefined;
    const historyRows = flags['history-rows'] === undefined ? undefined : intFlag(flags, 'history-rows', 0, 1000, 100_000_000);
    const log = createLogger({ name: 'bench', level: process.env.LOG_LEVEL ?? 'warn' });
    const jsonOut = typeof flags.json === 'string' ? flags.json : undefined;
    return runScale(process.env.DATABASE_URL!, log, { quick, jsonFile: jsonOut, only, historyRows, machine: await machine(quick) }, (s) => process.stderr.write(`bench: ${s}\n`));
  }
  const rows = intFlag(flags, 'rows', quick ? 50_000 : 200_000, 1000, 10_000_000);
  const seconds = durationMs(flags, 'seconds', quick ? 4000 : 12_000)! / 1000;
  const jsonFile = typeof flags.json === 'string' ? flags.json : undefined;
  const apiOpts = { pairs: intFlag(flags, 'api-pairs', quick ? 2 : 5, 1, 50), rate: intFlag(flags, 'api-rate', 1000, 10, 100_000), requests: 2000, concurrency: 100, compare: Boolean(flags['api-compare']) };
  const db = await freshBenchDatabase(process.env.DATABASE_URL);
  const log = createLogger({ name: 'bench', level: process.env.LOG_LEVEL ?? 'warn' });
  const say = (s: string) => process.stderr.write(`bench: ${s}\n`);
  let current: Pipeline | undefined;
  const track = (p?: Pipeline) => (current = p);
  const mem = new PeakMemory(() => workersOf(current));
  const storage = await openStorage({ databaseUrl: db.url, log });
  try {
    if (flags['api-only']) {
      const api = await apiAB(storage, db.url, log, apiOpts, say);
      process.stdout.write(`${renderApiAB(api)}\n`);
      if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify({ machine: await machine(quick), api_load: api }, null, 2)}\n`);
      return 0;
    }
    say(`raw COPY of ${rows} rows (warm-up, then the median of 3 passes)...`);
    const raw = await rawCopy(db.url, rows);
    say(`sim pipeline maximum, ${rows} rows (median of ${quick ? 1 : 3})...`);
    const sim = await medianOf(quick ? 1 : 3, () => simMax(storage, log, rows, track));
    const contracts = quick ? 100 : 200;
    say(`loopback DXLink pipeline, ${contracts} contracts every 5 ms, ${seconds}s...`);
    const dx = await dxlinkMax(storage, log, seconds, contracts, 5, track);
    const latency: Record<string, Awaited<ReturnType<typeof latencyAt>>> = {};
    for (const rate of [100, 1000, 10_000]) {
      say(`latency at ${rate} events/s, ${seconds}s...`);
      latency[rate] = await latencyAt(storage, log, rate, seconds, track);
    }
    const api = await apiAB(storage, db.url, log, apiOpts, say);
    say(`risk document for 5000 positions (CPU time, median of ${quick ? 3 : 7})...`);
    const riskCompute = riskComputeBench(5000, quick ? 3 : 7);
    say(`alert loop A/B at 1000 events/s, ${quick ? 1 : 3} pair(s) of ${seconds}s...`);
    const alertAB = await alertCpuAB(storage, log, 1000, seconds, quick ? 1 : 3);
    mem.stop();
    const rowsLost = sim.lostAllPasses + dx.lost + Object.values(latency).reduce((n, r) => n + r.lost, 0);
    const result = {
      machine: await machine(quick),
      raw_copy_rows_per_s: Math.round(raw.rowsPerSec),
      raw_copy_passes_rows_per_s: raw.passes,
      pipeline: {
        sim: { rows_per_s: Math.round(sim.rowsPerSec), ratio: round(sim.rowsPerSec / raw.rowsPerSec), rows: sim.rows, seconds: round(sim.seconds), passes_rows_per_s: sim.passes },
        dxlink: { rows_per_s: Math.round(dx.rowsPerSec), ratio: round(dx.rowsPerSec / raw.rowsPerSec), offered_per_s: dx.offeredPerSec, rows: dx.rows, seconds: round(dx.seconds) },
      },
      latency_ms: Object.fromEntries(Object.entries(latency).map(([rate, r]) => [rate, { p50: r.latency.p50, p95: r.latency.p95, p99: r.latency.p99, achieved_per_s: Math.round(r.rowsPerSec) }])),
      peak_rss_mb: Math.round(mem.peakRssMb),
      peak_worker_heap_mb: Object.fromEntries(Object.entries(mem.peakWorkerHeapMb).map(([k, v]) => [k, Math.round(v)])),
      rows_lost: rowsLost,
      api_load: api,
      risk: {
        document_cpu_ms: riskCompute.documentCpuMs, document_wall_ms: riskCompute.documentWallMs, scenarios_cpu_ms: riskCompute.scenariosCpuMs,
        positions: riskCompute.positions, strategies: riskCompute.strategies, document_bytes: riskCompute.bytes,
        alert_loop_cpu: { rate: alertAB.rate, seconds: alertAB.seconds, without_cores: alertAB.without, with_cores: alertAB.with, overhead_pct: round(alertAB.overheadPct), overhead_pct_per_pair: alertAB.pairsPct, within_budget: alertAB.withinBudget },
      },
    };
    process.stdout.write(`${render(result)}\n\n${renderApiAB(api)}\n`);
    if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
    return rowsLost === 0 ? 0 : 1;
  } finally {
    mem.stop();
    await storage.close().catch(() => undefined);
    await db.drop();
  }
}

const round = (n: number) => Math.round(n * 1000) / 1000;

async function machine(quick: boolean) {
  return { cores: (await import('node:os')).cpus().length, node: process.version, at: new Date().toISOString(), quick };
}

function render(r: {
  raw_copy_rows_per_s: number;
  pipeline: { sim: { rows_per_s: number; ratio: number }; dxlink: { rows_per_s: number; ratio: number; offered_per_s: number } };
  latency_ms: Record<string, { p50: number | null; p95: number | null; p99: number | null; achieved_per_s: number }>;
  peak_rss_mb: number;
  peak_worker_heap_mb: Record<string, number>;
  rows_lost: number;
  risk: {
    document_cpu_ms: { median: number; min: number; max: number; runs: number };
    scenarios_cpu_ms: { median: number; min: number; max: number };
    positions: number;
    alert_loop_cpu: { rate: number; without_cores: { median: number; min: number; max: number; runs: number }; with_cores: { median: number; min: number; max: number }; overhead_pct: number; overhead_pct_per_pair?: { median: number; min: number; max: number } };
  };
}): string {
  const tp = table(['path', 'rows/s', 'ratio to raw COPY'], [
    ['raw COPY (5000-row batches)', String(r.raw_copy_rows_per_s), '1.00'],
    ['pipeline via sim (worker, no sockets)', String(r.pipeline.sim.rows_per_s), r.pipeline.sim.ratio.toFixed(2)],
    [`pipeline via DXLink loopback (offered ${r.pipeline.dxlink.offered_per_s}/s)`, String(r.pipeline.dxlink.rows_per_s), r.pipeline.dxlink.ratio.toFixed(2)],
  ]);
  const ms = (n: number | null) => (n === null ? '-' : n.toFixed(1));
  const lat = table(['offered events/s', 'achieved rows/s', 'p50 ms', 'p95 ms', 'p99 ms'],
    Object.entries(r.latency_ms).map(([rate, l]) => [rate, String(l.achieved_per_s), ms(l.p50), ms(l.p95), ms(l.p99)]));
  const heaps = Object.entries(r.peak_worker_heap_mb).map(([k, v]) => `${k} ${v} MB`).join(', ') || '-';
  const k = r.risk;
  const sp = (x: { median: number; min: number; max: number }, d = 0) => `${x.median.toFixed(d)} (${x.min.toFixed(d)}-${x.max.toFixed(d)})`;
  const a = k.alert_loop_cpu;
  const riskText = [
    `risk --json compute, ${k.positions} positions: ${sp(k.document_cpu_ms)} ms CPU, median (min-max) of ${k.document_cpu_ms.runs} (budget 200 ms); what-if grid ${sp(k.scenarios_cpu_ms)} ms CPU`,
    `alert loop at ${a.rate} events/s: pipeline CPU ${sp(a.without_cores, 3)} cores without, ${sp(a.with_cores, 3)} with, ${a.overhead_pct.toFixed(1)} % extra (budget 5 %, ${a.without_cores.runs} A/B pairs${a.overhead_pct_per_pair ? `; per pair ${sp(a.overhead_pct_per_pair, 1)} %` : ''})`,
  ].join('\n');
  return `${tp}\n\n${lat}\n\npeak RSS ${r.peak_rss_mb} MB (process); peak worker heap: ${heaps}\nrows lost: ${r.rows_lost}\n\n${riskText}`;
}

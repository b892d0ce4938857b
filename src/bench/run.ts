import { writeFileSync } from 'node:fs';
import type { Pipeline } from '../app/pipeline.js';
import { durationMs, intFlag, parseArgs } from '../cli/args.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { openStorage } from '../db/index.js';
import { table } from '../cli/output.js';
import { openRawCopy, type CopyPass } from './copy.js';
import { freshBenchDatabase } from './database.js';
import { PeakMemory } from './memory.js';
import { cpuMark, cpuSince, type CpuPerRows } from './cpu.js';
import { dxlinkMax, latencyAt, simMax, workersOf, type RunResult } from './scenarios.js';
import { apiAB, renderApiAB, variantOf } from './apiReport.js';
import { alertCpuAB, riskComputeBench } from './risk.js';

export const BENCH_HELP = `Usage: npm run bench -- [--quick] [--runs=N] [--only=LIST] [--json FILE] [--rows=N] [--seconds=S] [--api-only] [--api-pairs=N] [--api-rate=N] [--api-compare] [--api-variants=LIST]
       npm run bench -- --scale [--quick] [--json FILE] [--scale-only=history,cluster,book] [--history-rows=N]

Throughput and latency of the whole pipeline, in one run on this machine, into a fresh
scratch database on DATABASE_URL's PostgreSQL server (created and dropped by the run). Every
scenario runs --runs times (default 3) and is reported as median (min-max):
  1. raw limit: COPY of synthetic snapshot rows (same columns and key), one pass right
     before each pipeline pass, so every ratio divides two figures measured back to back
  2. pipeline maximum via the in-worker sim broker (no sockets, closed loop of --rows), and
     via the Tastytrade simulator over loopback (DXLink -> real tasty actor), each as a ratio
     of the raw COPY pass before it
  3. latency received->persisted p50/p95/p99 at 100, 1,000 and 10,000 events/s
  4. peak RSS of the process in each scenario and peak heap of each worker; rows lost (must be 0)
  5. API load A/B: persist latency p95 of the sim at --api-rate events/s without and with
     2,000 GETs at concurrency 100 (status, snapshots, timeline) from another process, with
     the API as served (its own worker thread and read pool, API_MAX_CONCURRENT + queue,
     request/statement timeouts, heavy-query gate, timeline cache); --api-compare adds the same
     limits on the pipeline's thread (API_THREAD=0) and one pair without back-pressure
  6. risk engine: CPU time of the \`risk --json\` document for 5,000 positions (budget 200 ms)
     and of the what-if grid; extra pipeline CPU of the alert loop at 1,000 events/s (A/B,
     budget 5 %)
Absolute numbers drift between machines and runs: compare the ratios.

  --quick        a shorter run (one pass of each scenario, under 45 s)
  --runs=N       passes of each scenario (default 3, quick 1)
  --only=LIST    some parts only, comma-separated: sim, dxlink, latency, api, risk (default all)
  --json FILE    also write the figures as JSON
  --rows=N       rows for the raw and sim-maximum runs (default 100000, quick 50000)
  --seconds=S    seconds per latency / loopback run (default 5, quick 3)
  --api-only     only the API load A/B (5)
  --api-pairs=N  A/B pairs per variant (default 3, quick 1)
  --api-rate=N   sim events/s during the A/B (default 1000)
  --alert-pairs=N    A/B pairs of the alert-loop CPU bench (default 2, quick 1)
  --alert-seconds=S  seconds per half of an alert-loop pair (default: --seconds)
  --api-compare  also the API on the pipeline's thread, and without back-pressure (one pair; minutes)
  --api-variants=LIST  instead, several APIs on one pipeline, their pairs alternating ABBA in one
                 run: items separated by ';', each \`default\` or API_X=n[,API_Y=m] (e.g.
                 "API_CPU_BUDGET_PCT=0;default"); a table of CPU per party per window follows
  --scale        instead of the above, the scale scenarios (issue 15 items 2-4, src/bench/scale.ts):
                 history (10 M rows: timeline day/month vs a naive GROUP BY), cluster (lease
                 takeover of a killed ingest --cluster process), book.* (big books); JSON keys
                 history.*, cluster.*, book.*. Heavy: minutes, about 2 GB of scratch database
  --scale-only=K with --scale: only these sections (comma-separated keys)
  --history-rows=N  with --scale: rows of generated history (default 10000000, quick 500000)
  --help         this text`;

/** The goals of issue 15 (medians of 3 on this machine class); the JSON and the table say which hold. */
export const TARGETS = { simRatio: 0.8, dxlinkRatio: 0.6, p95Ms: { 100: 20, 1000: 20, 10000: 200 } as Record<string, number>, peakRssMb: 300 };

export async function runBench(argv: string[]): Promise<number> {
  const flags = parseArgs(argv, 'bench', ['help', 'quick', 'runs', 'only', 'json', 'rows', 'seconds', 'api-only', 'api-pairs', 'api-rate', 'api-compare', 'api-variants', 'scale', 'scale-only', 'history-rows', 'alert-pairs', 'alert-seconds']);
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
    return runScale(process.env.DATABASE_URL!, log, { quick, jsonFile: jsonOut, only, historyRows, machine: await machine(quick, 1) }, (s) => process.stderr.write(`bench: ${s}\n`));
  }
  const runs = intFlag(flags, 'runs', quick ? 1 : 3, 1, 20);
  const rows = intFlag(flags, 'rows', quick ? 50_000 : 100_000, 1000, 10_000_000);
  const seconds = durationMs(flags, 'seconds', quick ? 3000 : 5000)! / 1000;
  const jsonFile = typeof flags.json === 'string' ? flags.json : undefined;
  const parts = new Set(typeof flags.only === 'string' ? flags.only.split(',').map((x) => x.trim()) : ['sim', 'dxlink', 'latency', 'api', 'risk']);
  for (const p of parts) if (!['sim', 'dxlink', 'latency', 'api', 'risk'].includes(p)) throw new ConfigError(`--only=${String(flags.only)}: use some of sim, dxlink, latency, api, risk`);
  const apiOpts = { pairs: intFlag(flags, 'api-pairs', quick ? 1 : 3, 1, 50), rate: intFlag(flags, 'api-rate', 1000, 10, 100_000), requests: 2000, concurrency: 100, compare: Boolean(flags['api-compare']),
    variants: typeof flags['api-variants'] === 'string' ? flags['api-variants'].split(';').filter((x) => x.trim()) : undefined };
  apiOpts.variants?.forEach(variantOf); // a bad item: the one-line ConfigError before any database
  const db = await freshBenchDatabase(process.env.DATABASE_URL);
  const log = createLogger({ name: 'bench', level: process.env.LOG_LEVEL ?? 'warn' });
  const say = (s: string) => process.stderr.write(`bench: ${s}\n`);
  let current: Pipeline | undefined;
  const track = (p?: Pipeline) => (current = p);
  const mem = new PeakMemory(() => workersOf(current));
  const storage = await openStorage({ databaseUrl: db.url, log });
  const started = performance.now();
  try {
    if (flags['api-only']) {
      mem.scenario('api_load');
      const api = await apiAB(storage, db.url, log, apiOpts, say);
      mem.stop();
      process.stdout.write(`${renderApiAB(api)}\npeak RSS ${Math.round(mem.peakRssMb)} MB\n`);
      if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify({ machine: await machine(quick, runs), api_load: api, peak_rss_mb: Math.round(mem.peakRssMb) }, null, 2)}\n`);
      return 0;
    }
    const throughput = parts.has('sim') || parts.has('dxlink');
    if (throughput) say(`raw COPY of ${rows} rows: rendering and a warm-up pass...`);
    mem.scenario('raw_copy');
    const copy = throughput ? await openRawCopy(db.url, rows) : undefined;
    const raw: Array<CopyPass & { cpu: CpuPerRows }> = [];
    const sim: Array<RunResult & { ratio: number; startSeconds: number; cpu: CpuPerRows }> = [];
    const dx: Array<RunResult & { ratio: number; offeredPerSec: number; cpu: CpuPerRows }> = [];
    const contracts = quick ? 100 : 200;
    try {
      for (let i = 0; i < runs && copy; i++) {
        if (parts.has('sim')) {
          say(`pass ${i + 1}/${runs}: raw COPY, then the sim pipeline maximum (${rows} rows, closed loop)...`);
          mem.scenario('raw_copy');
          let m = await cpuMark(storage);
          const r1 = await copy.pass();
          const c1 = await cpuSince(storage, m, r1.rows);
          mem.scenario('sim');
          m = await cpuMark(storage);
          const s = await simMax(storage, log, rows, track);
          raw.push({ ...r1, cpu: c1 });
          sim.push({ ...s, ratio: s.rowsPerSec / r1.rowsPerSec, cpu: await cpuSince(storage, m, s.rows) });
        }
        if (!parts.has('dxlink')) continue;
        say(`pass ${i + 1}/${runs}: raw COPY, then loopback DXLink (${contracts} contracts every 5 ms, ${seconds}s)...`);
        mem.scenario('raw_copy');
        let m = await cpuMark(storage);
        const r2 = await copy.pass();
        const c2 = await cpuSince(storage, m, r2.rows);
        mem.scenario('dxlink');
        m = await cpuMark(storage);
        const d = await dxlinkMax(storage, log, seconds, contracts, 5, track);
        raw.push({ ...r2, cpu: c2 });
        dx.push({ ...d, ratio: d.rowsPerSec / r2.rowsPerSec, cpu: await cpuSince(storage, m, d.rows) });
      }
    } finally {
      await copy?.close();
    }
    const latency: Record<string, RunResult[]> = {};
    for (let i = 0; i < runs && parts.has('latency'); i++) {
      for (const rate of [100, 1000, 10_000]) {
        say(`pass ${i + 1}/${runs}: latency at ${rate} events/s, ${seconds}s...`);
        mem.scenario(`latency_${rate}`);
        (latency[rate] ??= []).push(await latencyAt(storage, log, rate, seconds, track));
      }
    }
    mem.scenario('api_load');
    const api = parts.has('api') ? await apiAB(storage, db.url, log, apiOpts, say) : undefined;
    mem.scenario('risk');
    const noRisk = { median: 0, min: 0, max: 0, runs: 0 };
    let riskCompute = { positions: 0, documentCpuMs: noRisk, documentWallMs: noRisk, scenariosCpuMs: noRisk, strategies: 0, bytes: 0 };
    let alertAB: Awaited<ReturnType<typeof alertCpuAB>> = { rate: 1000, seconds, without: noRisk, with: noRisk, overheadPct: 0, pairsPct: noRisk, withinBudget: true };
    if (parts.has('risk')) {
      say(`risk document for 5000 positions (CPU time, median of ${quick ? 3 : 7})...`);
      riskCompute = riskComputeBench(5000, quick ? 3 : 7);
      const alertPairs = intFlag(flags, 'alert-pairs', quick ? 1 : 2, 1, 100);
      const alertSeconds = intFlag(flags, 'alert-seconds', seconds, 1, 600);
      say(`alert loop A/B at 1000 events/s, ${alertPairs} pair(s) of ${alertSeconds}s...`);
      alertAB = await alertCpuAB(storage, log, 1000, alertSeconds, alertPairs);
    }
    mem.stop();
    const lost = (xs: RunResult[]) => xs.reduce((n, r) => n + r.lost, 0);
    const rowsLost = lost(sim) + lost(dx) + Object.values(latency).reduce((n, rs) => n + lost(rs), 0);
    const none = { rows: 0, seconds: 0, rowsPerSec: 0, lost: 0, latency: { p50: null, p95: null, p99: null }, ratio: 0, offeredPerSec: 0, startSeconds: 0 };
    const simMid = sim.length ? atMedian(sim, (r) => r.ratio) : none;
    const dxMid = dx.length ? atMedian(dx, (r) => r.ratio) : none;
    const latencyMs = Object.fromEntries(Object.entries(latency).map(([rate, rs]) => {
      const p = (f: (r: RunResult) => number | null) => spread(rs.map(f));
      const p95 = p((r) => r.latency.p95);
      return [rate, {
        p50: p((r) => r.latency.p50).median, p95: p95.median, p99: p((r) => r.latency.p99).median,
        achieved_per_s: Math.round(spread(rs.map((r) => r.rowsPerSec)).median ?? 0),
        p50_spread: p((r) => r.latency.p50), p95_spread: p95, p99_spread: p((r) => r.latency.p99),
        rows_lost: lost(rs),
      }];
    }));
    const peakByScenario = Object.fromEntries(Object.entries(mem.peakRssByScenarioMb).map(([k, v]) => [k, Math.round(v)]));
    const benchScenarios = ['raw_copy', 'sim', 'dxlink', 'latency_100', 'latency_1000', 'latency_10000'];
    const worstPipelineRss = Math.max(...benchScenarios.map((k) => peakByScenario[k] ?? 0));
    const result = {
      machine: await machine(quick, runs),
      command: `npm run bench -- ${argv.join(' ')}`.trim(),
      wall_seconds: Math.round((performance.now() - started) / 1000),
      raw_copy_rows_per_s: Math.round(spread(raw.map((r) => r.rowsPerSec)).median ?? 0),
      raw_copy_passes_rows_per_s: raw.map((r) => Math.round(r.rowsPerSec)),
      cpu_ms_per_1k_rows: {
        raw_copy: cpuSpread(raw.map((r) => r.cpu)), sim: cpuSpread(sim.map((r) => r.cpu)), dxlink: cpuSpread(dx.map((r) => r.cpu)),
      },
      pipeline: {
        sim: {
          rows_per_s: Math.round(simMid.rowsPerSec), ratio: round(simMid.ratio), rows: simMid.rows, seconds: round(simMid.seconds),
          passes_rows_per_s: sim.map((r) => Math.round(r.rowsPerSec)), ratio_spread: spread(sim.map((r) => r.ratio), round),
          passes_start_s: sim.map((r) => round(r.startSeconds)),
          passes_ratio: sim.map((r) => round(r.ratio)), runs: sim.length,
        },
        dxlink: {
          rows_per_s: Math.round(dxMid.rowsPerSec), ratio: round(dxMid.ratio), offered_per_s: dxMid.offeredPerSec, rows: dxMid.rows, seconds: round(dxMid.seconds),
          passes_rows_per_s: dx.map((r) => Math.round(r.rowsPerSec)), ratio_spread: spread(dx.map((r) => r.ratio), round),
          passes_ratio: dx.map((r) => round(r.ratio)), runs: dx.length,
        },
      },
      latency_ms: latencyMs,
      peak_rss_mb: Math.round(mem.peakRssMb),
      peak_rss_mb_by_scenario: peakByScenario,
      peak_worker_heap_mb: Object.fromEntries(Object.entries(mem.peakWorkerHeapMb).map(([k, v]) => [k, Math.round(v)])),
      rows_lost: rowsLost,
      targets: {
        sim_ratio: { target: `>= ${TARGETS.simRatio}`, median: round(simMid.ratio), met: simMid.ratio >= TARGETS.simRatio },
        dxlink_ratio: { target: `>= ${TARGETS.dxlinkRatio}`, median: round(dxMid.ratio), met: dxMid.ratio >= TARGETS.dxlinkRatio },
        ...Object.fromEntries(Object.entries(TARGETS.p95Ms).map(([rate, ms]) => {
          const v = latencyMs[rate]?.p95 ?? null;
          return [`p95_ms_${rate}`, { target: `<= ${ms}`, median: v, met: v !== null && v <= ms }];
        })),
        peak_rss_mb: { target: `<= ${TARGETS.peakRssMb} in every pipeline scenario`, worst: worstPipelineRss, met: worstPipelineRss <= TARGETS.peakRssMb },
        rows_lost: { target: '0', value: rowsLost, met: rowsLost === 0 },
      },
      api_load: api,
      risk: {
        document_cpu_ms: riskCompute.documentCpuMs, document_wall_ms: riskCompute.documentWallMs, scenarios_cpu_ms: riskCompute.scenariosCpuMs,
        positions: riskCompute.positions, strategies: riskCompute.strategies, document_bytes: riskCompute.bytes,
        alert_loop_cpu: { rate: alertAB.rate, seconds: alertAB.seconds, without_cores: alertAB.without, with_cores: alertAB.with, overhead_pct: round(alertAB.overheadPct), overhead_pct_per_pair: alertAB.pairsPct, within_budget: alertAB.withinBudget },
      },
    };
    process.stdout.write(`${render(result)}\n\n${api ? `${renderApiAB(api)}\n\n` : ''}${parts.has('risk') ? `${renderRisk(result.risk)}\n\n` : ''}wall time ${result.wall_seconds} s\n`);
    if (jsonFile) writeFileSync(jsonFile, `${JSON.stringify(result, null, 2)}\n`);
    return rowsLost === 0 ? 0 : 1;
  } finally {
    mem.stop();
    await storage.close().catch(() => undefined);
    await db.drop();
  }
}

export interface Spread {
  median: number | null;
  min: number | null;
  max: number | null;
  runs: number;
}

/** Median (the lower middle one for an even count, so it is a value that was measured), min and max. */
export function spread(xs: Array<number | null>, r: (n: number) => number = (n) => Math.round(n * 10) / 10): Spread {
  const v = xs.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return { median: null, min: null, max: null, runs: 0 };
  return { median: r(v[Math.floor((v.length - 1) / 2)]), min: r(v[0]), max: r(v[v.length - 1]), runs: v.length };
}

/** The pass whose `by` is the median one (its other figures are reported with it). */
function atMedian<T>(xs: T[], by: (x: T) => number): T {
  return [...xs].sort((a, b) => by(a) - by(b))[Math.floor((xs.length - 1) / 2)];
}

const round = (n: number) => Math.round(n * 1000) / 1000;

/** Median (min-max) of the passes' CPU per 1,000 rows, process and server side. */
function cpuSpread(xs: CpuPerRows[]): { process: Spread; server: Spread } {
  return { process: spread(xs.map((x) => x.process_ms_per_1k)), server: spread(xs.map((x) => x.server_ms_per_1k)) };
}

async function machine(quick: boolean, runs: number) {
  const os = await import('node:os');
  return { cores: os.cpus().length, node: process.version, at: new Date().toISOString(), quick, runs, load_average_1m: Math.round(os.loadavg()[0] * 10) / 10 };
}

type Result = {
  raw_copy_rows_per_s: number;
  raw_copy_passes_rows_per_s: number[];
  cpu_ms_per_1k_rows: Record<'raw_copy' | 'sim' | 'dxlink', { process: Spread; server: Spread }>;
  pipeline: {
    sim: { rows_per_s: number; ratio: number; ratio_spread: Spread; passes_rows_per_s: number[]; passes_start_s: number[] };
    dxlink: { rows_per_s: number; ratio: number; offered_per_s: number; ratio_spread: Spread; passes_rows_per_s: number[] };
  };
  latency_ms: Record<string, { achieved_per_s: number; p50_spread: Spread; p95_spread: Spread; p99_spread: Spread }>;
  peak_rss_mb: number;
  peak_rss_mb_by_scenario: Record<string, number>;
  peak_worker_heap_mb: Record<string, number>;
  rows_lost: number;
  targets: Record<string, { target: string; met: boolean }>;
};

const sp = (x: { median: number | null; min: number | null; max: number | null }, d = 0) =>
  x.median === null ? '-' : `${x.median.toFixed(d)} (${x.min!.toFixed(d)}-${x.max!.toFixed(d)})`;

function render(r: Result): string {
  const runs = r.pipeline.sim.ratio_spread.runs;
  const rawSpread = spread(r.raw_copy_passes_rows_per_s, Math.round);
  const tp = table(['path', 'rows/s, median (min-max)', 'ratio to raw COPY, median (min-max)', 'target'], [
    [`raw COPY (5000-row batches), ${rawSpread.runs} passes`, sp(rawSpread), '1.00', ''],
    [`pipeline via sim (worker, no sockets), ${runs} passes`, sp(spread(r.pipeline.sim.passes_rows_per_s, Math.round)), sp(r.pipeline.sim.ratio_spread, 2), `>= ${TARGETS.simRatio}`],
    [`pipeline via DXLink loopback (offered ${r.pipeline.dxlink.offered_per_s}/s), ${r.pipeline.dxlink.ratio_spread.runs} passes`,
      sp(spread(r.pipeline.dxlink.passes_rows_per_s, Math.round)), sp(r.pipeline.dxlink.ratio_spread, 2), `>= ${TARGETS.dxlinkRatio}`],
  ]);
  const lat = table(['offered events/s', 'achieved rows/s', 'p50 ms', 'p95 ms', 'p99 ms', 'target p95'],
    Object.entries(r.latency_ms).map(([rate, l]) => [rate, String(l.achieved_per_s), sp(l.p50_spread, 1), sp(l.p95_spread, 1), sp(l.p99_spread, 1), `<= ${TARGETS.p95Ms[rate] ?? '-'}`]));
  const heaps = Object.entries(r.peak_worker_heap_mb).map(([k, v]) => `${k} ${v} MB`).join(', ') || '-';
  const byScenario = Object.entries(r.peak_rss_mb_by_scenario).map(([k, v]) => `${k} ${v}`).join(', ');
  const missed = Object.entries(r.targets).filter(([, t]) => !t.met).map(([k, t]) => `${k} (${t.target})`);
  const cpu = r.cpu_ms_per_1k_rows;
  const cpuLine = (name: string, c: { process: Spread; server: Spread }) => `${name}: process ${sp(c.process, 1)}, server ${sp(c.server, 1)}`;
  const cpuText = `CPU ms per 1,000 rows, median (min-max): ${cpuLine('raw COPY', cpu.raw_copy)}; ${cpuLine('sim', cpu.sim)}; ${cpuLine('DXLink (whole pass)', cpu.dxlink)}`;
  const start = r.pipeline.sim.passes_start_s.length ? `; sim start (worker up to the first stored row) ${r.pipeline.sim.passes_start_s.join(', ')} s, outside its rate` : '';
  return `${tp}\n${cpuText}${start}\n\n${lat}\n(latency: median (min-max) of the passes' own percentiles)\n\n`
    + `peak RSS ${r.peak_rss_mb} MB (process, all threads); per scenario, MB: ${byScenario}\npeak worker heap: ${heaps}\nrows lost: ${r.rows_lost}\n`
    + `targets: ${missed.length === 0 ? 'all met' : `missed: ${missed.join(', ')}`}`;
}

function renderRisk(k: {
  document_cpu_ms: { median: number; min: number; max: number; runs: number };
  scenarios_cpu_ms: { median: number; min: number; max: number };
  positions: number;
  alert_loop_cpu: { rate: number; without_cores: { median: number; min: number; max: number; runs: number }; with_cores: { median: number; min: number; max: number }; overhead_pct: number; overhead_pct_per_pair?: { median: number; min: number; max: number } };
}): string {
  const a = k.alert_loop_cpu;
  return [
    `risk --json compute, ${k.positions} positions: ${sp(k.document_cpu_ms)} ms CPU, median (min-max) of ${k.document_cpu_ms.runs} (budget 200 ms); what-if grid ${sp(k.scenarios_cpu_ms)} ms CPU`,
    `alert loop at ${a.rate} events/s: pipeline CPU ${sp(a.without_cores, 3)} cores without, ${sp(a.with_cores, 3)} with, ${a.overhead_pct.toFixed(1)} % extra (budget 5 %, ${a.without_cores.runs} A/B pairs${a.overhead_pct_per_pair ? `; per pair ${sp(a.overhead_pct_per_pair, 1)} %` : ''})`,
  ].join('\n');
}

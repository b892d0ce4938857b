/**
 * A/B of the pipeline's persist latency with and without an API load, in one run: the sim
 * broker at a fixed offered rate into the bench database, `npm run serve`'s API on a loopback
 * port, and (B) 2,000 GETs at concurrency 100 over the routes a user hits (status, snapshots,
 * timeline) from a separate process. Each pair measures A (no load) for as long as B took,
 * right before B, so drift (table growth, checkpoints) hits both sides alike.
 */
import { spawn } from 'node:child_process';
import { scriptArgs } from './script.js';
import type { Logger } from 'pino';
import { buildApi } from '../api/app.js';
import { readApiLimits, type ApiLimits } from '../api/limits.js';
import { startApiThread } from '../api/thread/host.js';
import { readAppConfig } from '../app/config.js';
import { Pipeline } from '../app/pipeline.js';
import { MemoryJournal } from '../core/journal.js';
import type { LatencySummary } from '../core/latency.js';
import { openReadStorage } from '../db/index.js';
import type { Storage } from '../db/types.js';
import { cpuMark, cpuShare, type CpuShare } from './cpuShare.js';

export const API_LOAD_PATHS = ['/v1/streaming/status', '/v1/greeks/snapshots', '/v1/risk/timeline'];

export interface LoadResult {
  requests: number;
  seconds: number;
  status: Record<string, number>;
  p50_ms: number;
  p95_ms: number;
  /** 5xx answers by route and the start of their message. */
  refusals?: Record<string, number>;
  /** The generator's own CPU seconds in the window. */
  cpu_s?: number;
}

export interface ApiVariant {
  name: string;
  /** Concurrency limit etc. for the API under test. */
  limits: ApiLimits;
  /** Reads on their own pool (openReadStorage) instead of the writer's. */
  readPool: boolean;
  /** The API in a worker thread of its own (serve's default on PostgreSQL, D73), else on the pipeline's thread. */
  thread?: boolean;
}

export interface PairResult {
  baseline: LatencySummary;
  loaded: LatencySummary;
  load: LoadResult;
  /** loaded p95 / baseline p95. */
  ratio: number | null;
  /** Cores used per party in each window (Linux /proc). */
  cpu: { baseline: CpuShare; loaded: CpuShare };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the load generator and waits until it is loaded; go() starts the load and resolves with its result. */
async function loadGenerator(base: string, requests: number, concurrency: number): Promise<{ go(): Promise<LoadResult> }> {
  const child = spawn(process.execPath, [...scriptArgs('./loadgen.ts'), base, String(requests), String(concurrency), ...API_LOAD_PATHS], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const exited = new Promise<LoadResult>((resolve, reject) => {
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.split('\n')[1]) as LoadResult) : reject(new Error(`load generator exited ${code}`))));
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (c) => {
      out += c;
      if (out.startsWith('ready\n')) resolve();
    });
    exited.catch(reject);
  });
  return { go: () => (child.stdin!.write('go\n'), exited) };
}

/**
 * `pairs` A/B pairs per API variant, on one pipeline that streams the sim at `rate` events/s
 * throughout. With several variants every one listens at once (an idle one costs a state
 * message every 250 ms) and the rounds alternate their order (ABBA...), so drift and the
 * neighbours' load hit each variant alike; each pair's ratio is its own loaded p95 over the
 * no-load p95 measured right before it.
 */
export async function apiLoadAB(
  storage: Storage, databaseUrl: string, log: Logger, variants: ApiVariant[],
  opts: { rate: number; pairs: number; requests: number; concurrency: number; progress?: (line: string) => void },
): Promise<PairResult[][]> {
  await storage.query('TRUNCATE greek_snapshots');
  const config = readAppConfig({ ...process.env, FLUSH_MAX_PENDING_ROWS: '50000' });
  const pipeline = new Pipeline({ storage, config, log, journal: new MemoryJournal() });
  const apis: Array<Awaited<ReturnType<typeof openBenchApi>>> = [];
  const results: PairResult[][] = variants.map(() => []);
  try {
    for (const v of variants) apis.push(await openBenchApi(storage, databaseUrl, log, v, pipeline));
    await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: String(opts.rate), accounts: '2' } });
    await sleep(3000); // warm-up (and some history for the timeline), not measured
    for (let round = 0; round < opts.pairs; round++) {
      const order = variants.map((_, i) => i);
      if (round % 2 === 1) order.reverse();
      for (const i of order) {
        const api = apis[i];
        const pairs = results[i];
        // B first would leave a backlog in A; A first, for the length this variant's B took last time (first pair: 3 s).
        const window = pairs.length ? pairs[pairs.length - 1].load.seconds * 1000 : 3000;
        const generator = await loadGenerator(`http://127.0.0.1:${api.port}`, opts.requests, opts.concurrency);
        const m0 = await cpuMark(storage);
        pipeline.processor.latency.reset();
        await sleep(window);
        const baseline = pipeline.processor.latency.summary();
        const m1 = await cpuMark(storage);
        pipeline.processor.latency.reset();
        const load = await generator.go();
        const loaded = pipeline.processor.latency.summary();
        const m2 = await cpuMark(storage);
        const ratio = baseline.p95 && loaded.p95 !== null ? loaded.p95 / baseline.p95 : null;
        const cpu = { baseline: cpuShare(m0, m1, api.tid, 0), loaded: cpuShare(m1, m2, api.tid, load.cpu_s ?? null) };
        pairs.push({ baseline, loaded, load, ratio, cpu });
        opts.progress?.(`${variants[i].name}: pair ${pairs.length}: p95 ${baseline.p95} -> ${loaded.p95} ms (${ratio === null ? '-' : ratio.toFixed(2)}x), ${JSON.stringify(load.status)} in ${load.seconds.toFixed(1)} s`);
        await sleep(1000); // let a backlog from B drain before the next A
      }
    }
  } finally {
    for (const api of apis) await api.close();
    await pipeline.stop();
  }
  return results;
}

/** The API under test, listening on a loopback port: in its own thread (as serve on PostgreSQL) or in process. */
async function openBenchApi(storage: Storage, databaseUrl: string, log: Logger, variant: ApiVariant, pipeline: Pipeline): Promise<{ port: number; tid?: number; close(): Promise<void> }> {
  const limits = { ...readApiLimits(), ...variant.limits };
  if (variant.thread) {
    if (!storage.target) throw new Error('the API thread needs a PostgreSQL storage');
    const t = await startApiThread({ pipeline, storage, target: storage.target, limits, host: '127.0.0.1', port: 0, log });
    return t;
  }
  const reader = variant.readPool ? await openReadStorage({ databaseUrl, log, statementTimeoutMs: limits.statementTimeoutMs, maxConnections: limits.readConnections }) : undefined;
  const app = await buildApi({ pipeline, storage, reader, log, limits });
  await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    port: (app.server.address() as { port: number }).port,
    async close() {
      await app.close();
      await reader?.close();
    },
  };
}

export function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

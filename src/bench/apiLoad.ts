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

export const API_LOAD_PATHS = ['/v1/streaming/status', '/v1/greeks/snapshots', '/v1/risk/timeline'];

export interface LoadResult {
  requests: number;
  seconds: number;
  status: Record<string, number>;
  p50_ms: number;
  p95_ms: number;
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

/** `pairs` A/B pairs for one API variant, on one pipeline that streams the sim at `rate` events/s throughout. */
export async function apiLoadAB(
  storage: Storage, databaseUrl: string, log: Logger, variant: ApiVariant,
  opts: { rate: number; pairs: number; requests: number; concurrency: number },
): Promise<PairResult[]> {
  await storage.query('TRUNCATE greek_snapshots');
  const config = readAppConfig({ ...process.env, FLUSH_MAX_PENDING_ROWS: '50000' });
  const pipeline = new Pipeline({ storage, config, log, journal: new MemoryJournal() });
  const api = await openBenchApi(storage, databaseUrl, log, variant, pipeline);
  const pairs: PairResult[] = [];
  try {
    const base = `http://127.0.0.1:${api.port}`;
    await pipeline.startActor({ id: 'sim', broker: 'sim', flags: { rate: String(opts.rate), accounts: '2' } });
    await sleep(3000); // warm-up (and some history for the timeline), not measured
    for (let i = 0; i < opts.pairs; i++) {
      // B first would leave a backlog in A; A first, for the length B took last time (first pair: 3 s).
      const window = pairs.length ? pairs[pairs.length - 1].load.seconds * 1000 : 3000;
      const generator = await loadGenerator(base, opts.requests, opts.concurrency);
      pipeline.processor.latency.reset();
      await sleep(window);
      const baseline = pipeline.processor.latency.summary();
      pipeline.processor.latency.reset();
      const load = await generator.go();
      const loaded = pipeline.processor.latency.summary();
      const ratio = baseline.p95 && loaded.p95 !== null ? loaded.p95 / baseline.p95 : null;
      pairs.push({ baseline, loaded, load, ratio });
      await sleep(1000); // let a backlog from B drain before the next A
    }
  } finally {
    await api.close();
    await pipeline.stop();
  }
  return pairs;
}

/** The API under test, listening on a loopback port: in its own thread (as serve on PostgreSQL) or in process. */
async function openBenchApi(storage: Storage, databaseUrl: string, log: Logger, variant: ApiVariant, pipeline: Pipeline): Promise<{ port: number; close(): Promise<void> }> {
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

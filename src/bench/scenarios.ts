import type { Logger } from 'pino';
import { readAppConfig } from '../app/config.js';
import { Pipeline } from '../app/pipeline.js';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { scriptArgs } from './script.js';
import { MemoryJournal } from '../core/journal.js';
import type { Storage } from '../db/types.js';
import type { PeakMemory } from './memory.js';

export interface RunResult {
  rows: number;
  seconds: number;
  rowsPerSec: number;
  lost: number;
  latency: { p50: number | null; p95: number | null; p99: number | null };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Empty table and a checkpoint, so one scenario's write-back IO does not land in the next one's numbers. */
async function settle(storage: Storage): Promise<void> {
  await storage.query('TRUNCATE greek_snapshots');
  await storage.query('CHECKPOINT').catch(() => undefined); // needs superuser or pg_checkpoint; best effort
}

/** Median (by rate) of `n` runs of a scenario. */
export async function medianOf<T extends { rowsPerSec: number; lost: number }>(n: number, run: () => Promise<T>): Promise<T & { passes: number[]; lostAllPasses: number }> {
  const runs: T[] = [];
  for (let i = 0; i < n; i++) runs.push(await run());
  runs.sort((a, b) => a.rowsPerSec - b.rowsPerSec);
  const lostAllPasses = runs.reduce((sum, r) => sum + r.lost, 0);
  return { ...runs[Math.floor((runs.length - 1) / 2)], passes: runs.map((r) => Math.round(r.rowsPerSec)), lostAllPasses };
}

function pipelineFor(storage: Storage, log: Logger, maxPendingRows: number): Pipeline {
  const config = readAppConfig({ ...process.env, FLUSH_MAX_PENDING_ROWS: String(maxPendingRows) });
  return new Pipeline({ storage, config, log, journal: new MemoryJournal() });
}

export function workersOf(p: Pipeline | undefined): Array<{ id: string; heapMb: number | null }> {
  if (!p) return [];
  return p.supervisor.status().map((a) => ({ id: a.id, heapMb: (a.health?.details?.heapUsedMb as number | undefined) ?? null }));
}

/** Rows the sim numbered 1..n per (account, contract) minus rows stored: 0 when nothing was lost. */
async function simRowsLost(storage: Storage): Promise<{ expected: number; stored: number }> {
  const [r] = await storage.query<{ expected: number | string | null; stored: number | string }>(
    `SELECT sum(hi) AS expected, sum(n) AS stored FROM (
       SELECT max(seq) AS hi, count(*) AS n FROM greek_snapshots WHERE broker = 'sim' GROUP BY account, contract_key) s`,
  );
  return { expected: Number(r.expected ?? 0), stored: Number(r.stored) };
}

/**
 * Closed loop: the sim broker (in its worker, no sockets) produces `rows` updates as fast as it
 * can. The rate is the steady state, as for DXLink and the raw COPY (whose connection and warm-up
 * are outside its clock): from the first persisted row to the last (D87). `startSeconds` is the
 * time from the actor's start (worker thread, module loading) to that first row.
 */
export async function simMax(storage: Storage, log: Logger, rows: number, track: (p?: Pipeline) => void): Promise<RunResult & { startSeconds: number }> {
  await settle(storage);
  const p = pipelineFor(storage, log, rows * 2);
  track(p);
  const written = () => p.processor.flusher.stats().rowsWritten;
  const t0 = performance.now();
  await p.startActor({ id: 'sim', broker: 'sim', flags: { rate: '1000000', 'tick-ms': '5', accounts: '1', count: String(rows) } });
  while (written() === 0) await sleep(1);
  const t1 = performance.now();
  const r0 = written();
  while (written() < rows) await sleep(5);
  const seconds = (performance.now() - t1) / 1000;
  const latency = p.processor.stats().latency;
  await p.stop();
  track(undefined);
  const { expected, stored } = await simRowsLost(storage);
  return { rows: stored, seconds, rowsPerSec: (rows - r0) / seconds, startSeconds: (t1 - t0) / 1000, lost: Math.max(0, expected - stored) + Math.max(0, rows - expected), latency };
}

/** The Tastytrade simulator in its own process, so its CPU and memory are not charged to the pipeline. */
export async function spawnTastySimProcess(args: string[]) {
  const child = spawn(process.execPath, [...scriptArgs('../brokers/tasty/sim/main.ts'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const next = () => new Promise<Record<string, unknown>>((resolve, reject) => {
    lines.once('line', (l) => resolve(JSON.parse(l)));
    child.once('exit', (code) => reject(new Error(`tasty simulator exited (${code})`)));
  });
  const hello = (await next()) as { env: Record<string, string> };
  return {
    env: hello.env,
    silence: () => child.kill('SIGUSR1'),
    async stop(): Promise<number> {
      const done = next();
      child.kill('SIGTERM');
      return Number((await done).sentGreeks);
    },
    kill: () => child.kill('SIGKILL'),
  };
}

const spawnTastySim = (contracts: number, tickMs: number) => spawnTastySimProcess([`--contracts=${contracts}`, `--tick-ms=${tickMs}`]);

/**
 * The loopback path: Tastytrade simulator (its own process; REST + DXLink over real sockets) →
 * real tasty actor → processor → database, offered `contracts × 1000/tickMs` Greeks per second.
 * The rate is measured in the steady state, from the first persisted row, for `seconds`.
 */
export async function dxlinkMax(storage: Storage, log: Logger, seconds: number, contracts: number, tickMs: number, track: (p?: Pipeline) => void): Promise<RunResult & { offeredPerSec: number }> {
  await settle(storage);
  const sim = await spawnTastySim(contracts, tickMs);
  // Set (and later restore) keys in place: replacing process.env with a plain object would leave
  // later workers (the next pass's actor) with a stale copy of the environment.
  const vars = { ...sim.env, TASTY_ACCOUNTS: '5WT00001' };
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  const p = pipelineFor(storage, log, 5_000_000);
  track(p);
  try {
    await p.startActor({ id: 'tasty', broker: 'tasty' });
    const startBy = performance.now() + 60_000;
    while (p.processor.flusher.stats().rowsWritten === 0) {
      if (performance.now() > startBy) throw new Error('loopback DXLink: no row persisted within 60 s of the start (see the actor log above)');
      await sleep(10);
    }
    const r0 = p.processor.flusher.stats().rowsWritten;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const written = p.processor.flusher.stats().rowsWritten - r0;
    const elapsed = (performance.now() - t0) / 1000;
    sim.silence(); // stop the feed, then let what is on the wire arrive
    await sleep(500);
    const latency = p.processor.stats().latency;
    await p.stop();
    const sent = await sim.stop();
    const [r] = await storage.query<{ n: number | string }>(`SELECT count(*) AS n FROM greek_snapshots WHERE broker = 'tasty'`);
    return { rows: Number(r.n), seconds: elapsed, rowsPerSec: written / elapsed, lost: Math.max(0, sent - Number(r.n)), latency, offeredPerSec: (contracts * 1000) / tickMs };
  } finally {
    track(undefined);
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    sim.kill();
  }
}

/** Latency received→persisted at a fixed offered load (sim broker, default flush bounds). */
export async function latencyAt(storage: Storage, log: Logger, rate: number, seconds: number, track: (p?: Pipeline) => void): Promise<RunResult> {
  await settle(storage);
  const p = pipelineFor(storage, log, 50_000);
  track(p);
  await p.startActor({ id: 'sim', broker: 'sim', flags: { rate: String(rate), accounts: '1' } });
  await sleep(1000); // warm-up, not measured
  p.processor.latency.reset();
  const r0 = p.processor.stats().flush.rowsWritten;
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const written = p.processor.stats().flush.rowsWritten - r0;
  const elapsed = (performance.now() - t0) / 1000;
  const latency = p.processor.latency.summary();
  await p.stop();
  track(undefined);
  const { expected, stored } = await simRowsLost(storage);
  return { rows: stored, seconds: elapsed, rowsPerSec: written / elapsed, lost: Math.max(0, expected - stored), latency };
}

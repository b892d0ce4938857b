import type { Logger } from 'pino';
import { readAppConfig } from '../app/config.js';
import { Pipeline } from '../app/pipeline.js';
import { defaultContracts, type SimContract } from '../brokers/simbook.js';
import { optionHolding, startTastySimulator } from '../brokers/tasty/sim/index.js';
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
 * can; the clock runs from the actor's start until the last row is persisted.
 */
export async function simMax(storage: Storage, log: Logger, rows: number, track: (p?: Pipeline) => void): Promise<RunResult> {
  await storage.query('TRUNCATE greek_snapshots');
  const p = pipelineFor(storage, log, rows * 2);
  track(p);
  const t0 = performance.now();
  await p.startActor({ id: 'sim', broker: 'sim', flags: { rate: '1000000', 'tick-ms': '5', accounts: '1', count: String(rows) } });
  while (p.processor.flusher.stats().rowsWritten < rows) await sleep(5);
  const seconds = (performance.now() - t0) / 1000;
  const latency = p.processor.stats().latency;
  await p.stop();
  track(undefined);
  const { expected, stored } = await simRowsLost(storage);
  return { rows: stored, seconds, rowsPerSec: rows / seconds, lost: Math.max(0, expected - stored) + Math.max(0, rows - expected), latency };
}

/** Contracts for a large simulated Tastytrade book (SPY strikes around the money). */
function bigBook(n: number): SimContract[] {
  const base = defaultContracts()[0];
  return Array.from({ length: n }, (_, i) => ({ ...base, right: i % 2 ? 'P' : 'C', strike: 400 + Math.floor(i / 2) }));
}

/**
 * The loopback path: Tastytrade simulator (REST + DXLink over real sockets) → real tasty actor →
 * processor → database, offered `contracts × 1000/tickMs` Greeks per second for `seconds`.
 */
export async function dxlinkMax(storage: Storage, log: Logger, seconds: number, contracts: number, tickMs: number, track: (p?: Pipeline) => void): Promise<RunResult & { offeredPerSec: number }> {
  await storage.query('TRUNCATE greek_snapshots');
  const book = bigBook(contracts);
  const account = '5WT00001';
  const sim = await startTastySimulator({ contracts: book, book: new Map([[account, book.map((c, i) => optionHolding(c, i % 3 === 0 ? -2 : 1))]]), dxlink: { tickMs } });
  const saved = { ...process.env };
  Object.assign(process.env, sim.env, { TASTY_ACCOUNTS: account });
  const p = pipelineFor(storage, log, 5_000_000);
  track(p);
  try {
    await p.startActor({ id: 'tasty', broker: 'tasty' });
    // Measure the steady state: from the first persisted row, for `seconds`.
    while (p.processor.flusher.stats().rowsWritten === 0) await sleep(10);
    const r0 = p.processor.stats().flush.rowsWritten;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const written = p.processor.stats().flush.rowsWritten - r0;
    const elapsed = (performance.now() - t0) / 1000;
    sim.dxKnobs.silent = true; // stop the feed, then let what is on the wire arrive
    await sleep(500);
    const latency = p.processor.stats().latency;
    await p.stop();
    const [r] = await storage.query<{ n: number | string }>(`SELECT count(*) AS n FROM greek_snapshots WHERE broker = 'tasty'`);
    const sent = sim.sentGreeks().length;
    return { rows: Number(r.n), seconds: elapsed, rowsPerSec: written / elapsed, lost: Math.max(0, sent - Number(r.n)), latency, offeredPerSec: (contracts * 1000) / tickMs };
  } finally {
    track(undefined);
    process.env = saved;
    await sim.close();
  }
}

/** Latency received→persisted at a fixed offered load (sim broker, default flush bounds). */
export async function latencyAt(storage: Storage, log: Logger, rate: number, seconds: number, track: (p?: Pipeline) => void): Promise<RunResult> {
  await storage.query('TRUNCATE greek_snapshots');
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

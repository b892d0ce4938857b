/**
 * Big-book scenarios (issue 15 item 2), each from the simulator through the real actor, the
 * processor and PostgreSQL into its own scratch database:
 *   - tastyBook: N option positions over A accounts at the Tastytrade simulator (its own
 *     process), chunked and paced DXLink subscriptions; every Greeks event the simulator sent
 *     must be stored (rows_lost = sent - stored).
 *   - twsBook: a TWS book bigger than the simulator's line limit (error 101 past it); lines
 *     rotate; the rotation figures come from the actor's status (health details.lines).
 *   - cpapiBook: N positions at the Client Portal simulator (HTTP 429 past 10 requests/s).
 * Peak RSS is the bench process's (pipeline and actor workers; the tasty simulator runs apart).
 */
import type { Logger } from 'pino';
import { readAppConfig } from '../app/config.js';
import { Pipeline } from '../app/pipeline.js';
import { MemoryJournal } from '../core/journal.js';
import { openStorage } from '../db/index.js';
import type { Storage } from '../db/types.js';
import { startCpapiSimulator } from '../brokers/ibkr/sim/cpapi/index.js';
import { startTwsSimulator } from '../brokers/ibkr/sim/tws/index.js';
import { bigBook } from '../brokers/tasty/sim/book.js';
import { freshBenchDatabase } from './database.js';
import { PeakMemory } from './memory.js';
import { spawnTastySimProcess, workersOf } from './scenarios.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (n: number) => Math.round(n * 10) / 10;

export interface TastyBookResult {
  contracts: number;
  accounts: number;
  rows: number;
  rows_lost: number;
  sent: number;
  rows_per_s: number;
  offered_per_s: number;
  /** From the actor's start until every contract had a stored row. */
  all_contracts_s: number;
  subscription_messages: number;
  peak_rss_mb: number;
  seconds: number;
}

export interface TwsBookResult {
  contracts: number;
  line_limit: number;
  contracts_with_greeks: number;
  contracts_stored: number;
  refresh_s: number | null;
  target_refresh_s: number;
  cycles: number;
  rows: number;
  rows_per_s: number;
  error_101: number;
  error_100: number;
  peak_lines: number;
  peak_rss_mb: number;
  seconds: number;
}

export interface CpapiBookResult {
  contracts: number;
  accounts: number;
  contracts_with_greeks: number;
  rows: number;
  rows_per_s: number;
  http_429: number;
  rest_calls: number;
  smd_peak_per_s: number;
  all_contracts_s: number;
  peak_rss_mb: number;
  seconds: number;
}

interface Scratch {
  storage: Storage;
  pipeline: Pipeline;
  mem: PeakMemory;
  done(): Promise<void>;
}

/** A scratch database, a pipeline on it and the peak-memory sampler. */
async function scratch(databaseUrl: string, log: Logger): Promise<Scratch> {
  const db = await freshBenchDatabase(databaseUrl);
  const storage = await openStorage({ databaseUrl: db.url, log });
  const pipeline = new Pipeline({ storage, config: readAppConfig({ ...process.env }), log, journal: new MemoryJournal() });
  const mem = new PeakMemory(() => workersOf(pipeline));
  return {
    storage, pipeline, mem,
    async done() {
      mem.stop();
      await storage.close?.();
      await db.drop();
    },
  };
}

async function count(storage: Storage, broker: string): Promise<{ rows: number; contracts: number }> {
  const [r] = await storage.query<{ n: number | string; c: number | string }>(
    `SELECT count(*) AS n, count(DISTINCT contract_key) AS c FROM greek_snapshots WHERE broker = $1`, [broker],
  );
  return { rows: Number(r.n), contracts: Number(r.c) };
}

async function until(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(500);
  }
}

/** Runs `fn` with these environment variables set (actor configs are read from process.env). */
async function withEnv<T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  // Mutated in place, never replaced: worker threads copy the env object they were given.
  const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(values)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  apply(env);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

const spawnTastySim = spawnTastySimProcess;

/** N option positions over A accounts at the Tastytrade simulator; every row stored? */
export async function tastyBook(databaseUrl: string, log: Logger, opts: { contracts: number; accounts: number; tickMs: number; seconds: number }, say: (s: string) => void): Promise<TastyBookResult> {
  const s = await scratch(databaseUrl, log);
  const sim = await spawnTastySim([`--contracts=${opts.contracts}`, `--accounts=${opts.accounts}`, `--tick-ms=${opts.tickMs}`]);
  try {
    return await withEnv({ ...sim.env, TASTY_ACCOUNTS: undefined }, async () => {
      const t0 = performance.now();
      await s.pipeline.startActor({ id: 'tasty', broker: 'tasty' });
      await until(async () => (await count(s.storage, 'tasty')).contracts >= opts.contracts, 180_000, `rows for all ${opts.contracts} contracts`);
      const allContracts = (performance.now() - t0) / 1000;
      say(`book.tasty: all ${opts.contracts} contracts stored after ${round1(allContracts)} s; measuring ${opts.seconds} s`);
      const r0 = s.pipeline.processor.flusher.stats().rowsWritten;
      const t1 = performance.now();
      await sleep(opts.seconds * 1000);
      const written = s.pipeline.processor.flusher.stats().rowsWritten - r0;
      const elapsed = (performance.now() - t1) / 1000;
      const status = s.pipeline.supervisor.status().find((a) => a.id === 'tasty');
      sim.silence(); // stop the market, let what is on the wire arrive
      await sleep(1500);
      await s.pipeline.stop();
      const sent = await sim.stop();
      const stored = await count(s.storage, 'tasty');
      s.mem.stop();
      return {
        contracts: opts.contracts,
        accounts: opts.accounts,
        rows: stored.rows,
        rows_lost: Math.max(0, sent - stored.rows),
        sent,
        rows_per_s: Math.round(written / elapsed),
        offered_per_s: Math.round((opts.contracts * 1000) / opts.tickMs),
        all_contracts_s: round1(allContracts),
        subscription_messages: Number(status?.health?.details?.subscriptionMessages ?? 0),
        peak_rss_mb: Math.round(s.mem.peakRssMb),
        seconds: round1(elapsed),
      };
    });
  } finally {
    sim.kill();
    await s.done();
  }
}

/** A TWS book bigger than the line limit: rotation until `cycles` full cycles; figures from status. */
export async function twsBook(databaseUrl: string, log: Logger, opts: { contracts: number; lineLimit: number; cycles: number }, say: (s: string) => void): Promise<TwsBookResult> {
  const s = await scratch(databaseUrl, log);
  const sim = await startTwsSimulator({
    contracts: bigBook(opts.contracts, 1).contracts, accounts: ['DU1000001'], intervalMs: 250,
    knobs: { lineLimit: opts.lineLimit, maxRequestsPerSec: Math.floor(opts.lineLimit / 2) },
  });
  try {
    return await withEnv({ IBKR_TRANSPORT: 'tws', IBKR_TWS_HOST: '127.0.0.1', IBKR_TWS_PORT: String(sim.port), IBKR_CLIENT_ID: '31', IBKR_TWS_MAX_LINES: String(opts.lineLimit), IBKR_ACCOUNTS: undefined }, async () => {
      const lines = () => s.pipeline.supervisor.status().find((a) => a.id === 'tws')?.health?.details?.lines as Record<string, number | null> | undefined;
      const t0 = performance.now();
      await s.pipeline.startActor({ id: 'tws', broker: 'ibkr', flags: { 'ibkr-transport': 'tws' } });
      let last = -1;
      await until(async () => {
        const l = lines();
        const cycles = Number(l?.cycles ?? 0);
        if (cycles !== last) {
          last = cycles;
          if (cycles > 0) say(`book.tws: cycle ${cycles}: ${l?.contractsWithGreeks}/${l?.contracts} contracts with Greeks, refresh ${l?.refreshS} s`);
        }
        return cycles >= opts.cycles;
      }, 300_000, `${opts.cycles} rotation cycles`);
      const elapsed = (performance.now() - t0) / 1000;
      const l = lines() ?? {};
      await s.pipeline.stop();
      const stored = await count(s.storage, 'ibkr');
      const st = sim.stats();
      s.mem.stop();
      return {
        contracts: Number(l.contracts ?? 0),
        line_limit: opts.lineLimit,
        contracts_with_greeks: Number(l.contractsWithGreeks ?? 0),
        contracts_stored: stored.contracts,
        refresh_s: l.refreshS === null || l.refreshS === undefined ? null : round1(Number(l.refreshS)),
        target_refresh_s: Number(l.targetRefreshS ?? 0),
        cycles: Number(l.cycles ?? 0),
        rows: stored.rows,
        rows_per_s: Math.round(stored.rows / elapsed),
        error_101: st.error101,
        error_100: st.error100,
        peak_lines: st.peakLines,
        peak_rss_mb: Math.round(s.mem.peakRssMb),
        seconds: round1(elapsed),
      };
    });
  } finally {
    await sim.close();
    await s.done();
  }
}

/** N positions over A accounts at the Client Portal simulator (429 past 10 requests/s). */
export async function cpapiBook(databaseUrl: string, log: Logger, opts: { contracts: number; accounts: number; seconds: number }, say: (s: string) => void): Promise<CpapiBookResult> {
  const s = await scratch(databaseUrl, log);
  // In this process: plain http and a frame per contract every 2 s keep its CPU from starving the actor's pings.
  const sim = await startCpapiSimulator({ contracts: bigBook(opts.contracts, 1).contracts, spreadAccounts: opts.accounts, restPerSecond: 10, rateMs: 2000, plainHttp: true });
  try {
    return await withEnv({ IBKR_TRANSPORT: 'cpapi', IBKR_GATEWAY_URL: sim.url, IBKR_TLS_INSECURE: '1', IBKR_ACCOUNTS: undefined }, async () => {
      const t0 = performance.now();
      await s.pipeline.startActor({ id: 'cpapi', broker: 'ibkr', flags: { 'ibkr-transport': 'cpapi' } });
      await until(async () => (await count(s.storage, 'ibkr')).contracts >= opts.contracts, 180_000, `rows for all ${opts.contracts} contracts`);
      const allContracts = (performance.now() - t0) / 1000;
      say(`book.cpapi: all ${opts.contracts} contracts stored after ${round1(allContracts)} s; measuring ${opts.seconds} s`);
      const r0 = s.pipeline.processor.flusher.stats().rowsWritten;
      const t1 = performance.now();
      await sleep(opts.seconds * 1000);
      const written = s.pipeline.processor.flusher.stats().rowsWritten - r0;
      const elapsed = (performance.now() - t1) / 1000;
      await s.pipeline.stop();
      const stored = await count(s.storage, 'ibkr');
      s.mem.stop();
      return {
        contracts: opts.contracts,
        accounts: opts.accounts,
        contracts_with_greeks: stored.contracts,
        rows: stored.rows,
        rows_per_s: Math.round(written / elapsed),
        http_429: sim.stats.rateLimited,
        rest_calls: sim.stats.restCalls,
        smd_peak_per_s: sim.stats.smdPeakPerSec,
        all_contracts_s: round1(allContracts),
        peak_rss_mb: Math.round(s.mem.peakRssMb),
        seconds: round1(elapsed),
      };
    });
  } finally {
    await sim.close();
    await s.done();
  }
}

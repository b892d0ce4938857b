/**
 * The API thread (D73; started by host.ts): buildApi over a pipeline seen through messages —
 * sync reads answer from the last `state` message, changes and risk questions are calls to the
 * pipeline's thread — and over a read pool of its own. Nothing here touches the writer's
 * connections or the processor's memory.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import type { ActorSpec } from '../../actors/supervisor.js';
import { systemClock } from '../../core/clock.js';
import { createLogger } from '../../core/logger.js';
import type { LatestGreeks } from '../../core/processor.js';
import type { QuoteRow, TradeRow } from '../../core/types.js';
import { createPostgresDriver } from '../../db/driver-postgres.js';
import { createStorage } from '../../db/storage.js';
import type { WatchSymbol } from '../../quotes/symbols.js';
import type { RiskQuery, RiskService } from '../../risk/service.js';
import { buildApi } from '../app.js';
import type { ApiDeps } from '../deps.js';
import { threadCpuMeter } from '../limits.js';
import type { AlertJson } from '../riskPort.js';
import type { ApiThreadInit, CallMethod, FromApi, ToApi } from './protocol.js';
import { fromWire, toWire } from './wire.js';
import { startDbNice } from './dbNice.js';

const init = workerData as ApiThreadInit;
const port = parentPort!;
const post = (m: FromApi) => port.postMessage(m);
const log = createLogger({ name: init.logName, level: init.logLevel });

// This thread only (Linux: setpriority on the thread's id): under CPU contention the scheduler
// prefers the pipeline's thread to the API's. Elsewhere, or without permission, it stays as is.
let tid: number | undefined;
try {
  const n = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(n) && n > 0) tid = n;
} catch { /* not Linux */ }
if (init.nice > 0) {
  try {
    if (tid) setPriority(tid, Math.min(19, getPriority(tid) + init.nice));
  } catch (err) {
    log.debug({ err: String(err) }, 'API thread: priority unchanged');
  }
}

let state = init.state;
let nextId = 1;
const waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
const call = <T>(method: CallMethod, ...args: unknown[]): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const id = nextId++;
    waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
    post({ t: 'call', id, method, args });
  });

/** A feed from the pipeline's thread that runs only while someone here listens. */
function feed<T>(kind: 'latest' | 'alerts') {
  const listeners = new Set<(x: T) => void>();
  return {
    listeners,
    on(fn: (x: T) => void): () => void {
      if (listeners.size === 0) post({ t: kind, on: true });
      listeners.add(fn);
      return () => {
        if (listeners.delete(fn) && listeners.size === 0) post({ t: kind, on: false });
      };
    },
    emit(x: T) {
      for (const fn of listeners) fn(x);
    },
  };
}

const latestFeed = feed<LatestGreeks>('latest');
const alertFeed = feed<AlertJson>('alerts');
const latest = new Map<string, LatestGreeks>();
const keyOf = (s: LatestGreeks) => `${s.broker}\u0000${s.account}\u0000${s.contractKey}`;

const processor = {
  stats: () => state.stats,
  latencyHistogram: () => state.latency,
  latestQuotes: (symbols: string[]): QuoteRow[] => {
    const want = new Set(symbols);
    return state.watchedQuotes.filter((q) => want.has(q.symbol));
  },
  setWatchlist: () => undefined, // the supervisor's call below sets both, on the pipeline's thread
  acceptTrade: (trade: TradeRow) => call('acceptTrade', trade),
  onLatest: (fn: (s: LatestGreeks) => void) => latestFeed.on(fn),
  latestGreeks: (): LatestGreeks[] => [...latest.values()]
    .sort((a, b) => a.underlying.localeCompare(b.underlying) || a.contractKey.localeCompare(b.contractKey) || a.account.localeCompare(b.account)),
};
const supervisor = {
  status: () => state.actors,
  currentWatchlist: () => state.watchlist,
  setWatchlist: (list: WatchSymbol[]) => call<void>('setWatchlist', list),
};
const pipeline = {
  processor, supervisor,
  startActor: (spec: ActorSpec) => call<void>('startActor', spec),
  stopActor: (id: string) => call<void>('stopActor', id),
  redis: init.state.redis ? { stats: () => state.redis! } : undefined,
} as unknown as ApiDeps['pipeline'];

const risk = init.risk
  ? ({
    positions: (q?: RiskQuery) => call('riskPositions', q ?? {}),
    summary: (q?: RiskQuery) => call('riskSummary', q ?? {}),
    scenarios: (q: RiskQuery | undefined, mode: 'underlying' | 'beta') => call('riskScenarios', q ?? {}, mode),
    onAlert: (fn: (a: AlertJson) => void) => alertFeed.on(fn),
  } as unknown as RiskService)
  : undefined;

const driver = createPostgresDriver(init.target.url, {
  max: init.limits.readConnections, connectTimeoutSec: init.target.connectTimeoutSec, statementTimeoutMs: init.target.statementTimeoutMs, applicationName: 'riskwire-api', serial: true,
});
const storage = createStorage(driver, { log, clock: systemClock, maintenance: false });
const dbNice = init.limits.dbNice > 0 ? startDbNice({ storage, url: init.target.url, nice: init.limits.dbNice, connections: init.limits.readConnections, log }) : undefined;

port.on('message', (m: ToApi) => {
  switch (m.t) {
    case 'state': state = m.state; break;
    case 'reply': {
      const w = waiting.get(m.id);
      if (!w) break;
      waiting.delete(m.id);
      if (m.error) w.reject(fromWire(m.error));
      else w.resolve(m.value);
      break;
    }
    case 'latest': {
      if (m.full) latest.clear();
      for (const s of m.rows) latest.set(keyOf(s), s);
      for (const s of m.rows) latestFeed.emit(s);
      break;
    }
    case 'alert': alertFeed.emit(m.alert); break;
    case 'close': void close(); break;
  }
});

const app = await buildApi({
  pipeline, storage, reader: storage, log, token: init.token, limits: init.limits, actorFlags: init.actorFlags, risk,
  quoteTtlMs: init.quoteTtlMs, cluster: { view: () => state.cluster }, cpuMeter: threadCpuMeter(),
  quoteMemory: (symbols) => call<QuoteRow[]>('latestQuotes', symbols),
  riskMetricsText: init.risk ? () => call<string>('riskMetrics') : undefined,
});

async function close(): Promise<void> {
  dbNice?.stop();
  await app.close().catch((err: unknown) => log.warn({ err: String(err) }, 'API thread: close failed'));
  await storage.close().catch(() => undefined);
  for (const w of waiting.values()) w.reject(new Error('the API is closing'));
  waiting.clear();
  post({ t: 'closed' });
}

try {
  await app.listen({ host: init.host, port: init.port });
  const addr = app.server.address();
  if (!addr || typeof addr !== 'object') throw new Error('the API server has no address');
  post({ t: 'listening', address: addr.address, port: addr.port, family: addr.family, tid });
} catch (err) {
  post({ t: 'failed', error: toWire(err) });
  await storage.close().catch(() => undefined);
}

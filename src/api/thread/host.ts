/**
 * The HTTP API in a worker thread of its own (D73): `serve` (and the bench) start it here. The
 * thread has its own event loop (fastify parses, validates and serialises there), its own small
 * read pool (API_READ_CONNECTIONS, statement timeout API_STATEMENT_TIMEOUT_MS), and sees the
 * pipeline through messages: its live state every STATE_EVERY_MS, latest Greeks and alerts
 * while a page listens, and calls for what changes it (start/stop an actor, the watchlist, a
 * trade) or needs the risk engine. So a burst of requests never waits in the queue of the
 * thread that flushes the pipeline's rows. PostgreSQL only (a PGlite database lives in this
 * thread's memory: serve keeps the API in process then).
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { ActorSpec } from '../../actors/supervisor.js';
import { systemClock, type TimerHandle } from '../../core/clock.js';
import type { LatestGreeks } from '../../core/processor.js';
import type { TradeRow } from '../../core/types.js';
import type { PostgresTarget } from '../../db/driver.js';
import type { WatchSymbol } from '../../quotes/symbols.js';
import { riskMetrics } from '../../risk/metrics.js';
import { RiskService, type RiskQuery } from '../../risk/service.js';
import { loadRules, resolveBenchmark } from '../../risk/rules.js';
import { processorLiveState } from '../../risk/live.js';
import type { Storage } from '../../db/types.js';
import type { ApiDeps } from '../deps.js';
import type { ApiLimits } from '../limits.js';
import { LATEST_EVERY_MS, STATE_EVERY_MS, type ApiThreadInit, type CallMethod, type FromApi, type PipelineState, type ToApi } from './protocol.js';
import { toWire } from './wire.js';

const ENTRY = fileURLToPath(new URL('./entry.mjs', import.meta.url));

export interface ApiThreadOptions {
  pipeline: ApiDeps['pipeline'] & { setWatchlist(list: WatchSymbol[]): Promise<void> };
  /** Where the thread opens its read pool (the writer's storage.target). */
  target: PostgresTarget;
  limits: Required<ApiLimits>;
  host: string;
  port: number;
  log: Logger;
  token?: string;
  /** The risk engine (serve's, with its alert loop); without it one is made on first use over `storage`, as buildApi does. */
  risk?: RiskService;
  storage?: Storage;
  cluster?: { view(): unknown };
  actorFlags?: Record<string, string | boolean | undefined>;
  quoteTtlMs?: number;
}

export interface ApiThread {
  /** host:port as bound (IPv6 in brackets). */
  readonly address: string;
  readonly port: number;
  /** The thread's OS thread id (Linux), for CPU accounting. */
  readonly tid?: number;
  /** Ends open streams and requests, closes the thread's pool, ends the thread. */
  close(): Promise<void>;
}

export function pipelineState(p: ApiThreadOptions['pipeline'], cluster?: { view(): unknown }): PipelineState {
  const watchlist = p.supervisor.currentWatchlist?.() ?? [];
  return {
    stats: p.processor.stats(),
    latency: p.processor.latencyHistogram(),
    actors: p.supervisor.status(),
    watchlist,
    watchedQuotes: watchlist.length ? p.processor.latestQuotes(watchlist.map((w) => w.symbol)) : [],
    redis: p.redis?.stats(),
    cluster: cluster?.view(),
  };
}

export async function startApiThread(o: ApiThreadOptions): Promise<ApiThread> {
  const { pipeline, log } = o;
  const init: ApiThreadInit = {
    target: { ...o.target, statementTimeoutMs: Math.min(o.limits.statementTimeoutMs, o.limits.requestTimeoutMs) },
    limits: o.limits, host: o.host, port: o.port, token: o.token, quoteTtlMs: o.quoteTtlMs, actorFlags: o.actorFlags,
    logName: String(log.bindings().name ?? 'api'), logLevel: log.level, risk: !!(o.risk ?? o.storage), nice: o.limits.threadNice, state: pipelineState(pipeline, o.cluster),
  };
  const worker = new Worker(ENTRY, { workerData: init, name: 'riskwire-api' });
  const post = (m: ToApi) => worker.postMessage(m);
  const pushState = () => post({ t: 'state', state: pipelineState(pipeline, o.cluster) });
  const stateTimer = systemClock.setInterval(pushState, STATE_EVERY_MS);

  // Latest Greeks, conflated per position, only while the thread has a page listening.
  let latestOff: (() => void) | undefined;
  let latestTimer: TimerHandle | undefined;
  const changed = new Map<string, LatestGreeks>();
  const latest = (on: boolean) => {
    if (on && !latestOff) {
      latestOff = pipeline.processor.onLatest((s) => changed.set(`${s.broker}\u0000${s.account}\u0000${s.contractKey}`, s));
      post({ t: 'latest', rows: pipeline.processor.latestGreeks(), full: true });
      latestTimer = systemClock.setInterval(() => {
        if (changed.size === 0) return;
        post({ t: 'latest', rows: [...changed.values()], full: false });
        changed.clear();
      }, LATEST_EVERY_MS);
    } else if (!on && latestOff) {
      latestOff();
      latestOff = undefined;
      systemClock.clearInterval(latestTimer);
      changed.clear();
    }
  };
  let alertsOff: (() => void) | undefined;
  const alerts = (on: boolean) => {
    if (on && !alertsOff && (o.risk ?? o.storage)) alertsOff = risk().onAlert((alert) => post({ t: 'alert', alert }));
    else if (!on && alertsOff) {
      alertsOff();
      alertsOff = undefined;
    }
  };

  const risk = () => {
    if (!o.risk && o.storage) {
      o.risk = new RiskService({
        storage: o.storage, rules: loadRules(), benchmark: resolveBenchmark(undefined), clock: systemClock, log,
        live: processorLiveState(pipeline.processor, systemClock),
      });
    }
    if (!o.risk) throw new Error('no risk engine in this process');
    return o.risk;
  };
  const calls: Record<CallMethod, (...args: never[]) => unknown> = {
    startActor: (spec: ActorSpec) => pipeline.startActor(spec),
    stopActor: (id: string) => pipeline.stopActor(id),
    setWatchlist: (list: WatchSymbol[]) => pipeline.setWatchlist(list),
    acceptTrade: (trade: TradeRow) => pipeline.processor.acceptTrade(trade),
    latestQuotes: (symbols: string[]) => pipeline.processor.latestQuotes(symbols),
    riskPositions: (q: RiskQuery) => risk().positions(q),
    riskSummary: (q: RiskQuery) => risk().summary(q),
    riskScenarios: (q: RiskQuery, mode: 'underlying' | 'beta') => risk().scenarios(q, mode),
    riskMetrics: () => (o.risk ? riskMetrics(o.risk) : ''), // like buildApi: only once the engine was used
  };
  const CHANGES_STATE = new Set<CallMethod>(['startActor', 'stopActor', 'setWatchlist', 'acceptTrade']);

  let closed!: () => void;
  const closedP = new Promise<void>((r) => (closed = r));
  const listening = new Promise<{ address: string; port: number; tid?: number }>((resolve, reject) => {
    worker.on('message', (m: FromApi) => {
      switch (m.t) {
        case 'listening': {
          const address = `${m.family === 'IPv6' ? `[${m.address}]` : m.address}:${m.port}`;
          resolve({ address, port: m.port, tid: m.tid });
          break;
        }
        case 'failed': {
          const err = Object.assign(new Error(m.error.message), { code: m.error.code });
          reject(err);
          break;
        }
        case 'call': {
          Promise.resolve()
            .then(() => (calls[m.method] as (...a: unknown[]) => unknown)(...m.args))
            .then(
              (value) => {
                if (CHANGES_STATE.has(m.method)) pushState(); // the caller reads the new state next
                post({ t: 'reply', id: m.id, value });
              },
              (err: unknown) => post({ t: 'reply', id: m.id, error: toWire(err) }),
            );
          break;
        }
        case 'latest': latest(m.on); break;
        case 'alerts': alerts(m.on); break;
        case 'closed': closed(); break;
      }
    });
    worker.once('error', (err) => {
      log.error({ err: err.message }, 'API thread failed');
      reject(err);
    });
    worker.once('exit', (code) => {
      reject(new Error(`the API thread exited (${code}) before listening`));
      if (!closing) log.error({ code }, 'API thread exited: the HTTP API is down (the pipeline keeps running); restart serve');
      closed();
    });
  });
  const stopFeeds = () => {
    systemClock.clearInterval(stateTimer);
    latest(false);
    alerts(false);
  };
  let closing: Promise<void> | undefined;
  let bound: { address: string; port: number; tid?: number };
  try {
    bound = await listening;
  } catch (err) {
    stopFeeds();
    await worker.terminate();
    throw err;
  }
  return {
    address: bound.address,
    port: bound.port,
    tid: bound.tid,
    close() {
      closing ??= (async () => {
        stopFeeds();
        post({ t: 'close' });
        let timer: TimerHandle | undefined;
        await Promise.race([closedP, new Promise<void>((r) => (timer = systemClock.setTimeout(r, 10_000)))]);
        systemClock.clearTimeout(timer);
        await worker.terminate();
      })();
      return closing;
    },
  };
}

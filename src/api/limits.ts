/**
 * Back-pressure for the API, so it can never starve the pipeline (or the database) it serves:
 * at most `maxConcurrent` requests at once; the next `queueMax` wait up to `queueWaitMs` for a
 * slot (first come, first served), and only past that (queue full, or waited too long) the
 * answer is 503 + Retry-After. A response comes within `requestTimeoutMs` (503 after that; the
 * handler's late result is dropped, never sent twice). Cheap routes (/healthz, /metrics,
 * /openapi.json) and long-lived streams (config.longLived, or a client asking for
 * text/event-stream) are not counted and not timed. Heavy reads (the timeline) also take a slot
 * of a smaller gate of their own (`heavyGate`, API_HEAVY_MAX_CONCURRENT) inside their handler.
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { envInt } from '../core/env.js';
import { HttpError } from './errors.js';
import { Counter, Gauge, type Registry } from './metrics.js';

export interface ApiLimits {
  /** API_MAX_CONCURRENT: requests handled at once (default 16). */
  maxConcurrent: number;
  /** API_REQUEST_TIMEOUT_MS: time to the first byte of the response (default 10 s). */
  requestTimeoutMs: number;
  /** API_STATEMENT_TIMEOUT_MS: bound on each API database read (default 5 s; PostgreSQL only). */
  statementTimeoutMs: number;
  /** API_QUEUE_MAX: requests that may wait for a slot beyond maxConcurrent (default 200; 0 = answer 503 at once). */
  queueMax?: number;
  /** API_QUEUE_WAIT_MS: how long a request waits for a slot before its 503 (default 2 s). */
  queueWaitMs?: number;
  /** API_HEAVY_MAX_CONCURRENT: heavy database reads (the timeline) at once (default 1). */
  heavyMaxConcurrent?: number;
  /** API_READ_CONNECTIONS: connections of the API's own read pool (default 2). */
  readConnections?: number;
  /** API_TIMELINE_CACHE_MS: an identical timeline request within this time gets the same answer (default 1000; 0 = off). */
  timelineCacheMs?: number;
  /**
   * API_HEAVY_REST_FACTOR: heavy reads may hold their gate at most 1/(1+factor) of any 10 s
   * window (a lone read never waits; sustained load does), and an identical request reuses an
   * answer that took D ms for factor × D ms: heavy reads keep at most that share of one
   * database connection busy, however many clients ask (default 4: 20 %; 0 = no budget).
   */
  heavyRestFactor?: number;
  /** API_STALE_MAX_MS: past that, a heavy read's last answer up to this old is given at once (with Age) while one refresh runs (default 30000; 0 = never). */
  staleMaxMs?: number;
  /** API_THREAD_NICE: added to the API thread's nice value (Linux), so the pipeline's thread wins the CPU (default 10; 0 = same). */
  threadNice?: number;
  /**
   * API_CPU_BUDGET_PCT: a token bucket on the CPU the API thread itself spends (its own thread's
   * on-CPU time, /proc/thread-self/schedstat): it earns this percent of one core, keeps at most
   * CPU_BUDGET_BURST_MS of it, and while the bucket is empty no new request starts (they queue
   * for a slot). Counted only where a meter exists (the API thread on
   * Linux); default 2, 0 = off. It delays, never refuses: a request held by it for half of API_QUEUE_WAIT_MS
   * starts anyway. See D96.
   */
  cpuBudgetPct?: number;
  /** API_DB_NICE: added to the nice value of the API read pool's PostgreSQL backends when they run on this host and the OS allows it (D97; 0 = off). */
  dbNice?: number;
}

export function readApiLimits(env: NodeJS.ProcessEnv = process.env): Required<ApiLimits> {
  return {
    maxConcurrent: envInt(env, 'API_MAX_CONCURRENT', 16, 1, 10_000),
    requestTimeoutMs: envInt(env, 'API_REQUEST_TIMEOUT_MS', 10_000, 100, 600_000),
    statementTimeoutMs: envInt(env, 'API_STATEMENT_TIMEOUT_MS', 5_000, 100, 600_000),
    queueMax: envInt(env, 'API_QUEUE_MAX', 200, 0, 100_000),
    queueWaitMs: envInt(env, 'API_QUEUE_WAIT_MS', 2_000, 0, 600_000),
    heavyMaxConcurrent: envInt(env, 'API_HEAVY_MAX_CONCURRENT', 1, 1, 1000),
    readConnections: envInt(env, 'API_READ_CONNECTIONS', 2, 1, 100),
    timelineCacheMs: envInt(env, 'API_TIMELINE_CACHE_MS', 1_000, 0, 600_000),
    heavyRestFactor: envInt(env, 'API_HEAVY_REST_FACTOR', 4, 0, 100),
    threadNice: envInt(env, 'API_THREAD_NICE', 10, 0, 19),
    staleMaxMs: envInt(env, 'API_STALE_MAX_MS', 30_000, 0, 3_600_000),
    cpuBudgetPct: envInt(env, 'API_CPU_BUDGET_PCT', 2, 0, 100),
    dbNice: envInt(env, 'API_DB_NICE', 0, 0, 19),
  };
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Not counted against the concurrency limit nor timed out (SSE streams, health). */
    longLived?: boolean;
    unlimited?: boolean;
  }
}

const RETRY_AFTER_S = '1';

/** Why a gate refused: its queue was full, or the wait for a slot ran out. */
export type GateRefusal = 'queue_full' | 'queue_timeout';

interface Waiter {
  grant(): void;
  timer: TimerHandle | undefined;
  /** When it joined the queue (clock ms). */
  since: number;
}

/**
 * A counting semaphore with a bounded FIFO queue and a bounded wait. acquire() resolves with a
 * release function (call it once) or rejects with a GateRefusal. With `restFactor` it is also a
 * duty cycle: over any BUDGET_WINDOW_MS the holders may have held it at most 1/(1+restFactor)
 * of the time; a single request never waits for that, sustained load does.
 */
export const BUDGET_WINDOW_MS = 10_000;

/** CPU a burst may spend before the API CPU budget paces it (ms of CPU). */
export const CPU_BUDGET_BURST_MS = 100;

/**
 * A token bucket on CPU actually spent (D96), not on time held: `cpuMs()` is a cumulative CPU
 * clock of whoever does the work (the API thread's own on-CPU time); the bucket earns `pct` % of
 * a core per wall-clock ms, up to `burstMs`, and every ms of CPU spent is taken out. While it is
 * empty or in debt, available() is false; waitMs() says when it will be positive again. The
 * debt is capped at what BUDGET_WINDOW_MS earns.
 */
export class CpuBudget {
  private tokens: number;
  private lastAt: number;
  private lastCpu: number;

  constructor(private readonly o: { pct: number; clock: Clock; cpuMs: () => number; burstMs?: number }) {
    this.tokens = o.burstMs ?? CPU_BUDGET_BURST_MS;
    this.lastAt = o.clock.now();
    this.lastCpu = o.cpuMs();
  }

  private refill(): void {
    const now = this.o.clock.now();
    const cpu = this.o.cpuMs();
    const earned = Math.min(this.o.burstMs ?? CPU_BUDGET_BURST_MS, this.tokens + ((now - this.lastAt) * this.o.pct) / 100);
    // The debt is kept to what BUDGET_WINDOW_MS earns: after a flood, pacing ends within 10 s.
    this.tokens = Math.max(-(BUDGET_WINDOW_MS * this.o.pct) / 100, earned - Math.max(0, cpu - this.lastCpu));
    this.lastAt = now;
    this.lastCpu = cpu;
  }

  /** CPU ms in the bucket (negative: in debt). */
  get balance(): number {
    this.refill();
    return this.tokens;
  }

  available(): boolean {
    return this.balance > 0;
  }

  /** Wall-clock ms until the bucket is positive again at the current balance (0 when it is). */
  waitMs(): number {
    const b = this.balance;
    return b > 0 ? 0 : Math.ceil((-b * 100) / this.o.pct) + 1;
  }
}

/**
 * The calling thread's on-CPU time in ms (Linux: /proc/thread-self/schedstat, ns), or undefined
 * where there is no such file (then no CPU budget applies).
 */
export function threadCpuMeter(): (() => number) | undefined {
  const path = '/proc/thread-self/schedstat';
  const read = () => Number(readFileSync(path, 'utf8').split(' ')[0]) / 1e6;
  try {
    if (!Number.isFinite(read())) return undefined;
  } catch {
    return undefined;
  }
  return read;
}

export class Gate {
  private active = 0;
  private readonly queue: Waiter[] = [];
  /** Finished holds inside the budget window (restFactor only). */
  private readonly held: Array<{ start: number; end: number }> = [];
  private wake: TimerHandle | undefined;
  private wakeAt = 0;

  constructor(private readonly o: { max: number; queueMax: number; waitMs: number; clock: Clock; restFactor?: number; cpu?: CpuBudget }) {}

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  acquire(): Promise<() => void> {
    if (this.queue.length === 0 && this.canRun()) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    if (this.queue.length >= this.o.queueMax || this.o.waitMs === 0) return Promise.reject<() => void>('queue_full' satisfies GateRefusal);
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        grant: () => {
          this.o.clock.clearTimeout(w.timer);
          resolve(this.releaser());
        },
        timer: undefined,
        since: this.o.clock.now(),
      };
      w.timer = this.o.clock.setTimeout(() => {
        const i = this.queue.indexOf(w);
        if (i >= 0) this.queue.splice(i, 1);
        reject('queue_timeout' satisfies GateRefusal);
      }, this.o.waitMs);
      this.queue.push(w);
      this.pump();
    });
  }

  /** Time held inside the window ending now (ms). */
  private used(now: number): number {
    const from = now - BUDGET_WINDOW_MS;
    while (this.held.length && this.held[0].end <= from) this.held.shift();
    return this.held.reduce((sum, h) => sum + h.end - Math.max(h.start, from), 0);
  }

  /**
   * A slot is free and the budgets allow a start. The CPU budget delays, it does not refuse: the
   * head of the queue starts anyway once it waited half of `waitMs` (so pacing alone never
   * turns a request into a 503, and the 503s the budget could cause cannot spend the budget).
   */
  private canRun(headSince?: number): boolean {
    if (this.active >= this.o.max) return false;
    const factor = this.o.restFactor ?? 0;
    if (factor > 0 && this.used(this.o.clock.now()) >= BUDGET_WINDOW_MS / (1 + factor)) return false;
    if (!this.o.cpu || this.o.cpu.available()) return true;
    return headSince !== undefined && this.o.clock.now() - headSince >= this.o.waitMs / 2;
  }

  private pump(): void {
    while (this.queue.length && this.canRun(this.queue[0].since)) {
      this.active++;
      this.queue.shift()!.grant();
    }
    // Waiting on a budget only (nothing in flight may wake us): look again when the oldest
    // hold leaves the window, or when the CPU bucket is positive again.
    // A wake set earlier for a later time is moved forward (the queue's head may be new).
    if (this.queue.length && this.active < this.o.max) {
      const now = this.o.clock.now();
      const cpuWait = this.o.cpu ? Math.min(this.o.cpu.waitMs(), this.queue[0].since + Math.ceil(this.o.waitMs / 2) - now) : 0;
      const holdWait = this.held.length && (this.o.restFactor ?? 0) > 0 ? this.held[0].end + BUDGET_WINDOW_MS - now : 0;
      const at = Math.max(cpuWait, holdWait);
      const delay = Math.max(1, Math.min(at, 1000));
      if ((at > 0 || this.held.length) && (!this.wake || now + delay < this.wakeAt)) {
        this.o.clock.clearTimeout(this.wake);
        this.wakeAt = now + delay;
        this.wake = this.o.clock.setTimeout(() => {
          this.wake = undefined;
          this.pump();
        }, delay);
      }
    }
  }

  private releaser(): () => void {
    let done = false;
    const start = this.o.clock.now();
    return () => {
      if (done) return;
      done = true;
      this.active--;
      if ((this.o.restFactor ?? 0) > 0) this.held.push({ start, end: this.o.clock.now() });
      this.pump();
    };
  }
}

function exempt(req: FastifyRequest): boolean {
  const config = req.routeOptions.config ?? {};
  if (config.longLived || config.unlimited) return true;
  return /text\/event-stream/i.test(req.headers.accept ?? '');
}

const TIMED_OUT = Symbol('riskwire.timedOut');
type Marked = FastifyRequest & { [TIMED_OUT]?: boolean };

/** True once the request timeout answered this request (its handler's result is then dropped). */
export function timedOut(req: FastifyRequest): boolean {
  return (req as Marked)[TIMED_OUT] === true;
}

export interface InstalledLimits {
  /** The heavy reads' gate: a handler runs its expensive query through `heavy(() => ...)`. */
  heavy<T>(work: () => Promise<T>): Promise<T>;
}

export function installLimits(app: FastifyInstance, limits: ApiLimits, metrics: Registry, clock: Clock = systemClock, cpuMeter?: () => number): InstalledLimits {
  const queueMax = limits.queueMax ?? 0;
  const queueWaitMs = limits.queueWaitMs ?? 0;
  const cpu = (limits.cpuBudgetPct ?? 0) > 0 && cpuMeter ? new CpuBudget({ pct: limits.cpuBudgetPct!, clock, cpuMs: cpuMeter }) : undefined;
  const gate = new Gate({ max: limits.maxConcurrent, queueMax, waitMs: queueWaitMs, clock, cpu });
  const heavyGate = new Gate({ max: limits.heavyMaxConcurrent ?? 1, queueMax, waitMs: queueWaitMs, clock, restFactor: limits.heavyRestFactor ?? 0 });
  const rejected = new Counter({
    name: 'riskwire_api_rejected_total',
    help: 'API requests answered 503 by the back-pressure: busy (queue full, or no slot within API_QUEUE_WAIT_MS) or timeout (over API_REQUEST_TIMEOUT_MS).',
    labelNames: ['reason'], registers: [metrics],
  });
  new Gauge({ name: 'riskwire_api_in_flight', help: 'API requests being handled (long-lived streams excluded).', registers: [metrics], collect() { this.set(gate.inFlight); } });
  new Gauge({ name: 'riskwire_api_queued', help: 'API requests waiting for a slot (API_QUEUE_MAX).', registers: [metrics], collect() { this.set(gate.queued); } });

  const busy = (reply: FastifyReply, why: GateRefusal) => {
    rejected.inc({ reason: 'busy' });
    const detail = why === 'queue_full'
      ? `${limits.maxConcurrent} requests in flight, API_MAX_CONCURRENT${queueMax > 0 ? `; ${queueMax} waiting, API_QUEUE_MAX` : ''}`
      : `no slot within ${queueWaitMs} ms (API_QUEUE_WAIT_MS)`;
    reply.code(503).header('retry-after', RETRY_AFTER_S);
    return reply.send({ error: `the API is busy (${detail}): retry after ${RETRY_AFTER_S} s` });
  };

  // A handler that settles after its request timed out: its result (or error) is dropped here,
  // so fastify never tries a second reply (FST_ERR_REP_ALREADY_SENT) nor logs a stale error.
  app.addHook('onRoute', (route) => {
    const handler = route.handler;
    route.handler = function (this: FastifyInstance, req: FastifyRequest, reply: FastifyReply) {
      const out = (handler as (this: FastifyInstance, r: FastifyRequest, p: FastifyReply) => unknown).call(this, req, reply);
      if (!out || typeof (out as PromiseLike<unknown>).then !== 'function') return out;
      return (out as Promise<unknown>).then(
        (v) => (timedOut(req) ? undefined : v),
        (err: unknown) => {
          if (!timedOut(req)) throw err;
          req.log.debug({ url: req.url, err: String(err) }, 'late failure of a timed-out request dropped');
          return undefined;
        },
      );
    } as typeof route.handler;
  });

  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (exempt(req)) return;
    let release: () => void;
    try {
      release = await gate.acquire();
    } catch (why) {
      return busy(reply, why as GateRefusal);
    }
    if (req.raw.destroyed) return release(); // the client left while it waited
    const timer = clock.setTimeout(() => {
      if (reply.sent || reply.raw.headersSent) return;
      rejected.inc({ reason: 'timeout' });
      req.log.warn({ url: req.url, ms: limits.requestTimeoutMs }, 'API request timed out');
      (req as Marked)[TIMED_OUT] = true;
      // Hijacked and written directly: the handler still running can no longer reply through
      // fastify (its late result is dropped by the onRoute wrapper above).
      reply.hijack();
      const body = JSON.stringify({ error: `the request took longer than ${limits.requestTimeoutMs} ms (API_REQUEST_TIMEOUT_MS): narrow the query (shorter range, bigger bucket, lower limit) or retry` });
      reply.raw.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': RETRY_AFTER_S, 'content-length': Buffer.byteLength(body) });
      reply.raw.end(body);
    }, limits.requestTimeoutMs);
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      clock.clearTimeout(timer);
      release();
    };
    reply.raw.once('close', done);
    reply.raw.once('finish', done);
  });

  return {
    async heavy<T>(work: () => Promise<T>): Promise<T> {
      let release: () => void;
      try {
        release = await heavyGate.acquire();
      } catch (why) {
        rejected.inc({ reason: 'busy' });
        throw new HttpError(503, `the API is busy with heavy queries (${heavyGate.inFlight} running, API_HEAVY_MAX_CONCURRENT; ${why === 'queue_full' ? 'queue full' : 'no slot in time'}): retry after ${RETRY_AFTER_S} s`, { 'retry-after': RETRY_AFTER_S });
      }
      try {
        return await work();
      } finally {
        release();
      }
    },
  };
}

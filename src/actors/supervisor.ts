import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import type { Logger } from 'pino';
import { Piscina } from 'piscina';
import type { StreamHealth } from '../brokers/types.js';
import { sleep, systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import type { BrokerEvent, StreamState } from '../core/types.js';
import { backoffDelay, EQUAL_JITTER, type BackoffPolicy } from '../core/backoff.js';
import type { ActorControl, ActorTask, CreditMessage, DataMessage, Fault } from './protocol.js';

/**
 * Runs one actor per broker, each in its own piscina pool of one worker thread (so each gets
 * its own resource limits and nothing queues behind another broker). It restarts a crashed,
 * hung (missed pings) or out-of-memory actor with exponential backoff and jitter; other
 * actors, the processor and the writer never notice. See specs/actors.md.
 */
export interface ActorSpec {
  /** Unique name (usually the broker id). */
  id: string;
  broker: string;
  flags?: Record<string, string | boolean | undefined>;
  /** Record the actor's inbound wire messages into this folder (npm run ingest -- --record=DIR). */
  recordDir?: string;
}

export interface SupervisorOptions {
  /** Receives every batch of events from every actor (the core processor's ingest). */
  sink: (events: BrokerEvent[]) => void;
  log: Logger;
  clock?: Clock;
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
  startTimeoutMs?: number;
  stopTimeoutMs?: number;
  /** Restart delays; equal jitter unless the policy names another. */
  backoff?: BackoffPolicy;
  /** An actor that ran this long without failing resets its backoff. */
  stableAfterMs?: number;
  maxOldGenerationSizeMb?: number;
  allowFaults?: boolean;
  batchMax?: number;
  /**
   * Back-pressure: events an actor may have posted and not yet acknowledged (default 4096;
   * 0 = unlimited). The supervisor acknowledges a batch once the sink took it and `overloaded`
   * is false; while it is true acknowledgements wait, so a fast source stops at its credit.
   */
  creditEvents?: number;
  /** True while the consumer is behind (the writer's queue is past its high-water mark). */
  overloaded?: () => boolean;
  /** How often withheld acknowledgements are re-checked while overloaded (default 10 ms). */
  creditRecheckMs?: number;
}

export type ActorPhase = 'idle' | 'starting' | 'running' | 'backoff' | 'stopping' | 'stopped';

export interface ActorStatus {
  id: string;
  broker: string;
  /** connected / degraded / disconnected (the contract of /v1/streaming/status), or stopped. */
  state: 'connected' | 'degraded' | 'disconnected' | 'stopped';
  phase: ActorPhase;
  streamState: StreamState | null;
  lastEventAt: number | null;
  eventsIn: number;
  restarts: number;
  reconnects: number;
  queueDepth: number;
  lastError: string | null;
  nextRestartAt: number | null;
  health: StreamHealth | null;
  /** True once the actor's stream has started at least once. */
  everStarted: boolean;
}

const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.mjs', import.meta.url));

class ActorRun {
  readonly abort = new AbortController();
  control!: Comlink.Remote<ActorControl>;
  ctrlPort!: MessagePort;
  dataPort!: MessagePort;
  task!: Promise<unknown>;
  ended!: Promise<void>;
  endSeen = false;
  closed = false;
  /** Events taken in but not yet acknowledged to the worker (back-pressure). */
  withheld = 0;
  creditTimer: TimerHandle | undefined;
  /** Why we terminated this run ourselves (the task then rejects with a bare AbortError). */
  abortReason: string | null = null;
  kill(reason: string): void {
    this.abortReason ??= reason;
    this.abort.abort();
  }
}

interface ActorHandle {
  spec: ActorSpec;
  pool: Piscina | null;
  phase: ActorPhase;
  run: ActorRun | null;
  streamState: StreamState | null;
  eventsIn: number;
  /** Events taken in from the current worker (the worker counts what it posted since its start). */
  runEvents: number;
  queueDepth: number;
  lastEventAt: number | null;
  restarts: number;
  attempt: number;
  everStarted: boolean;
  lastError: string | null;
  health: StreamHealth | null;
  startedAt: number;
  restartTimer?: TimerHandle;
  pingTimer?: TimerHandle;
  nextRestartAt: number | null;
  pinging: boolean;
}

/** Restart delays: [d/2, d], d = min(30 s, 500 ms · 2^attempt) (specs/actors.md). */
export const SUPERVISOR_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000, jitter: EQUAL_JITTER };

export class Supervisor {
  private actors = new Map<string, ActorHandle>();
  private readonly clock: Clock;
  private readonly o: Required<Omit<SupervisorOptions, 'clock'>>;

  constructor(opts: SupervisorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.o = {
      sink: opts.sink, log: opts.log,
      pingIntervalMs: opts.pingIntervalMs ?? 2000,
      pingTimeoutMs: opts.pingTimeoutMs ?? 5000,
      startTimeoutMs: opts.startTimeoutMs ?? 60_000,
      stopTimeoutMs: opts.stopTimeoutMs ?? 10_000,
      backoff: { jitter: EQUAL_JITTER, ...(opts.backoff ?? SUPERVISOR_BACKOFF) },
      stableAfterMs: opts.stableAfterMs ?? 60_000,
      maxOldGenerationSizeMb: opts.maxOldGenerationSizeMb ?? 512,
      allowFaults: opts.allowFaults ?? false,
      batchMax: opts.batchMax ?? 512,
      creditEvents: opts.creditEvents ?? 4096,
      overloaded: opts.overloaded ?? (() => false),
      creditRecheckMs: opts.creditRecheckMs ?? 10,
    };
  }

  /** Starts an actor (or restarts a stopped one). Resolves when its stream started or its first attempt failed. */
  async start(spec: ActorSpec): Promise<void> {
    let h = this.actors.get(spec.id);
    if (h && h.phase !== 'stopped' && h.phase !== 'idle') return;
    if (!h) {
      h = {
        spec, pool: null, phase: 'idle', run: null, streamState: null, eventsIn: 0, runEvents: 0, queueDepth: 0, lastEventAt: null, restarts: 0, everStarted: false,
        attempt: 0, lastError: null, health: null, startedAt: 0, nextRestartAt: null, pinging: false,
      };
      this.actors.set(spec.id, h);
    } else h.spec = spec;
    h.pool = new Piscina({
      filename: WORKER_ENTRY,
      name: 'default',
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      // Atomics would park the idle worker and starve the actor's own event loop.
      atomics: 'disabled',
      idleTimeout: 60_000,
      resourceLimits: { maxOldGenerationSizeMb: this.o.maxOldGenerationSizeMb },
    });
    h.attempt = 0;
    await this.launch(h);
  }

  async stop(id: string): Promise<void> {
    const h = this.actors.get(id);
    if (!h || h.phase === 'stopped') return;
    h.phase = 'stopping';
    this.clock.clearTimeout(h.restartTimer);
    this.clock.clearInterval(h.pingTimer);
    h.nextRestartAt = null;
    const run = h.run;
    if (run) {
      try {
        await this.call(run, () => run.control.stop(), this.o.stopTimeoutMs, 'stop', true);
        await Promise.race([run.ended, this.delay(this.o.stopTimeoutMs)]);
      } catch (err) {
        this.o.log.warn({ actor: id, err: errText(err) }, 'actor did not stop cleanly; terminating its worker');
        run.kill(`did not stop cleanly: ${errText(err)}`);
      }
      await run.task.catch(() => undefined);
      this.closeRun(run);
    }
    h.run = null;
    await h.pool?.destroy().catch(() => undefined);
    h.pool = null;
    h.phase = 'stopped';
    h.streamState = 'stopped';
    this.o.log.info({ actor: id }, 'actor stopped');
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.actors.keys()].map((id) => this.stop(id)));
  }

  has(id: string): boolean {
    return this.actors.has(id);
  }

  status(): ActorStatus[] {
    return [...this.actors.values()].map((h) => this.statusOf(h));
  }

  async resubscribe(id: string): Promise<void> {
    const run = this.actors.get(id)?.run;
    if (!run) throw new Error(`actor ${id} is not running`);
    await this.call(run, () => run.control.resubscribe(), this.o.startTimeoutMs, 'resubscribe');
  }

  /** Test and fault-suite hook: make an actor's worker misbehave. */
  async inject(id: string, fault: Fault): Promise<void> {
    const run = this.actors.get(id)?.run;
    if (!run) throw new Error(`actor ${id} is not running`);
    await this.call(run, () => run.control.inject(fault), this.o.pingTimeoutMs, 'inject');
  }

  private statusOf(h: ActorHandle): ActorStatus {
    const stream = h.streamState;
    let state: ActorStatus['state'];
    if (h.phase === 'stopped' || h.phase === 'idle') state = 'stopped';
    else if (h.phase === 'running' && stream === 'connected') state = 'connected';
    else if (h.phase === 'running' && (stream === 'degraded' || stream === 'connecting' || stream === 'starting')) state = 'degraded';
    else state = 'disconnected';
    return {
      id: h.spec.id, broker: h.spec.broker, state, phase: h.phase, streamState: stream,
      lastEventAt: h.lastEventAt, eventsIn: h.eventsIn, restarts: h.restarts,
      reconnects: h.restarts + (h.health?.reconnects ?? 0), queueDepth: h.queueDepth,
      lastError: h.lastError ?? h.health?.lastError ?? null, nextRestartAt: h.nextRestartAt, health: h.health, everStarted: h.everStarted,
    };
  }

  private async launch(h: ActorHandle): Promise<void> {
    const pool = h.pool!;
    const run = new ActorRun();
    h.run = run;
    h.phase = 'starting';
    h.startedAt = this.clock.now();
    h.runEvents = 0;
    h.queueDepth = 0;
    const ctrl = new MessageChannel();
    const data = new MessageChannel();
    run.ctrlPort = ctrl.port1;
    run.dataPort = data.port1;
    let endSeen!: () => void;
    run.ended = new Promise<void>((resolve) => (endSeen = resolve));
    data.port1.on('message', (msg: DataMessage) => {
      if ('end' in msg) {
        run.endSeen = true;
        endSeen();
        return;
      }
      this.onEvents(h, msg.events);
      this.grant(run, msg.events.length);
    });
    const task: ActorTask = {
      actorId: h.spec.id, brokerId: h.spec.broker, flags: h.spec.flags ?? {}, controlPort: ctrl.port2, dataPort: data.port2,
      logLevel: this.o.log.level, batchMax: this.o.batchMax, creditEvents: this.o.creditEvents, allowFaults: this.o.allowFaults,
      ...(h.spec.recordDir ? { recordDir: h.spec.recordDir } : {}),
    };
    run.task = pool.run(task, { transferList: [ctrl.port2, data.port2] as any, signal: run.abort.signal });
    run.control = Comlink.wrap<ActorControl>(nodeEndpoint(ctrl.port1));
    run.task.then(
      () => this.onExit(h, run, null),
      (err: unknown) => this.onExit(h, run, err),
    );
    try {
      await this.call(run, () => run.control.start(), this.o.startTimeoutMs, 'start');
      if (h.run !== run || h.phase !== 'starting') return;
      h.phase = 'running';
      h.everStarted = true;
      h.lastError = null;
      this.o.log.info({ actor: h.spec.id, broker: h.spec.broker, restarts: h.restarts }, 'actor started');
      this.schedulePings(h, run);
    } catch (err) {
      const phase = h.phase as ActorPhase;
      if (h.run !== run || phase === 'stopping' || phase === 'stopped') return;
      h.lastError = errText(err);
      this.o.log.error({ actor: h.spec.id, err: h.lastError }, 'actor failed to start');
      run.kill(h.lastError);
    }
  }

  private onEvents(h: ActorHandle, events: BrokerEvent[]): void {
    h.eventsIn += events.length;
    h.runEvents += events.length;
    for (const ev of events) {
      if (ev.kind === 'state') h.streamState = ev.state;
      else if (ev.kind === 'greeks' || ev.kind === 'quote') h.lastEventAt = ev.receivedAt;
    }
    try {
      this.o.sink(events);
    } catch (err) {
      this.o.log.error({ actor: h.spec.id, err: errText(err) }, 'processor rejected a batch');
    }
  }

  /** Acknowledges `n` events to the worker now, or once the consumer is no longer overloaded. */
  private grant(run: ActorRun, n: number): void {
    if (this.o.creditEvents <= 0 || run.closed) return;
    run.withheld += n;
    if (run.creditTimer !== undefined) return;
    if (!this.o.overloaded()) {
      const ack = run.withheld;
      run.withheld = 0;
      run.dataPort.postMessage({ ack } satisfies CreditMessage);
      return;
    }
    const recheck = () => {
      run.creditTimer = undefined;
      if (run.closed || run.withheld === 0) return;
      if (this.o.overloaded()) run.creditTimer = this.clock.setTimeout(recheck, this.o.creditRecheckMs);
      else this.grant(run, 0);
    };
    run.creditTimer = this.clock.setTimeout(recheck, this.o.creditRecheckMs);
  }

  private schedulePings(h: ActorHandle, run: ActorRun): void {
    this.clock.clearInterval(h.pingTimer);
    h.pingTimer = this.clock.setInterval(() => {
      if (h.run !== run || h.pinging) return;
      h.pinging = true;
      this.call(run, () => run.control.status(), this.o.pingTimeoutMs, 'status')
        .then((health) => {
          h.health = health;
          // Events the worker has posted (or still holds) that the processor has not taken in yet.
          const d = health.details ?? {};
          h.queueDepth = Math.max(0, Number(d.postedEvents ?? 0) - h.runEvents) + Number(d.outbox ?? 0);
          if (this.clock.now() - h.startedAt > this.o.stableAfterMs) h.attempt = 0;
        })
        .catch((err: unknown) => {
          if (h.run !== run || h.phase !== 'running') return;
          h.lastError = `unresponsive: ${errText(err)}`;
          this.o.log.error({ actor: h.spec.id }, 'actor missed its ping (hung?); terminating its worker');
          run.kill(h.lastError);
        })
        .finally(() => {
          h.pinging = false;
        });
    }, this.o.pingIntervalMs);
  }

  private onExit(h: ActorHandle, run: ActorRun, err: unknown): void {
    if (h.run !== run) return;
    this.clock.clearInterval(h.pingTimer);
    this.closeRun(run);
    if (h.phase === 'stopping' || h.phase === 'stopped') return;
    h.restarts++;
    h.lastError = run.abortReason ?? (err ? errText(err) : (h.lastError ?? 'actor exited'));
    h.streamState = 'disconnected';
    h.phase = 'backoff';
    const delay = backoffDelay(h.attempt++, this.o.backoff);
    h.nextRestartAt = this.clock.now() + delay;
    this.o.log.warn({ actor: h.spec.id, err: h.lastError, restartInMs: delay, restarts: h.restarts }, 'actor died; restarting after backoff');
    h.restartTimer = this.clock.setTimeout(() => {
      h.nextRestartAt = null;
      if (h.phase !== 'backoff') return;
      void this.launch(h);
    }, delay);
  }

  private closeRun(run: ActorRun): void {
    if (run.closed) return;
    run.closed = true;
    this.clock.clearTimeout(run.creditTimer);
    run.creditTimer = undefined;
    run.control?.[Comlink.releaseProxy]?.();
    run.ctrlPort?.close();
    // Let queued data-plane messages drain before closing: events posted before the end marker still count.
    setImmediate(() => run.dataPort?.close());
  }

  /** A control call that cannot hang: it times out, and fails at once if the worker dies. */
  private call<T>(run: ActorRun, fn: () => Promise<T>, timeoutMs: number, what: string, exitIsSuccess = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
      const done = () => this.clock.clearTimeout(timer);
      run.task.then(
        // A clean exit can overtake the reply to stop(): the task and the control port are different channels.
        () => { done(); if (exitIsSuccess) resolve(undefined as T); else reject(new Error(`${what}: actor exited`)); },
        (err: unknown) => { done(); reject(new Error(`${what}: actor died: ${errText(err)}`)); },
      );
      fn().then(
        (v) => { done(); resolve(v); },
        (err: unknown) => { done(); reject(err instanceof Error ? err : new Error(String(err))); },
      );
    });
  }

  private delay(ms: number): Promise<void> {
    return sleep(this.clock, ms);
  }
}

function errText(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

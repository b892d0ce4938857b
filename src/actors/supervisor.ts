import type { Logger } from 'pino';
import type { StreamHealth } from '../brokers/types.js';
import { sleep, systemClock, systemRandom, type Clock, type TimerHandle } from '../core/clock.js';
import type { BrokerEvent, StreamState } from '../core/types.js';
import { backoffDelay, EQUAL_JITTER, type BackoffPolicy } from '../core/backoff.js';
import type { Fault } from './protocol.js';
import { PiscinaWorkerHost, type WorkerHost, type WorkerRun, type WorkerSlot } from './worker-host.js';
import { errorText } from '../core/errors.js';
import type { WatchSymbol } from '../quotes/symbols.js';

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
  /** Where workers run (default: a piscina pool of one thread per actor). Tests pass fake workers. */
  host?: WorkerHost;
  /** Randomness of the backoff jitter (default systemRandom); tests pin it. */
  random?: () => number;
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

/**
 * An actor's life, keyed on its phase: the fields that exist in that phase only. `run` in
 * backoff is the run that died (resubscribe/inject then fail with its death).
 */
export type ActorLife =
  | { phase: 'idle' }
  | { phase: 'starting'; slot: WorkerSlot; run: WorkerRun }
  | { phase: 'running'; slot: WorkerSlot; run: WorkerRun; pingTimer: TimerHandle }
  | { phase: 'backoff'; slot: WorkerSlot; run: WorkerRun; restartTimer: TimerHandle; nextRestartAt: number }
  | { phase: 'stopping'; slot: WorkerSlot | null; run: WorkerRun | null }
  | { phase: 'stopped' };

/** What the supervisor keeps per actor: counters that live across runs, and its current life. */
interface ActorHandle {
  spec: ActorSpec;
  life: ActorLife;
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
  pinging: boolean;
}

const runOf = (h: ActorHandle): WorkerRun | null => ('run' in h.life ? h.life.run : null);
const slotOf = (h: ActorHandle): WorkerSlot | null => ('slot' in h.life ? h.life.slot : null);

/** Restart delays: [d/2, d], d = min(30 s, 500 ms · 2^attempt) (specs/actors.md). */
export const SUPERVISOR_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000, jitter: EQUAL_JITTER };

export class Supervisor {
  private actors = new Map<string, ActorHandle>();
  /** The watchlist every actor gets at launch and on change (specs/quotes.md). */
  private watchlist: WatchSymbol[] = [];
  private readonly clock: Clock;
  private readonly o: Required<Omit<SupervisorOptions, 'clock' | 'host' | 'random'>>;
  private readonly host: WorkerHost;
  private readonly random: () => number;

  constructor(opts: SupervisorOptions) {
    this.clock = opts.clock ?? systemClock;
    this.random = opts.random ?? systemRandom;
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
    this.host = opts.host ?? new PiscinaWorkerHost({ maxOldGenerationSizeMb: this.o.maxOldGenerationSizeMb });
  }

  /** Starts an actor (or restarts a stopped one). Resolves when its stream started or its first attempt failed. */
  async start(spec: ActorSpec): Promise<void> {
    let h = this.actors.get(spec.id);
    if (h && h.life.phase !== 'stopped' && h.life.phase !== 'idle') return;
    if (!h) {
      h = {
        spec, life: { phase: 'idle' }, streamState: null, eventsIn: 0, runEvents: 0, queueDepth: 0, lastEventAt: null, restarts: 0, everStarted: false,
        attempt: 0, lastError: null, health: null, startedAt: 0, pinging: false,
      };
      this.actors.set(spec.id, h);
    } else h.spec = spec;
    const slot = this.host.open(spec.id);
    h.attempt = 0;
    await this.launch(h, slot);
  }

  async stop(id: string): Promise<void> {
    const h = this.actors.get(id);
    if (!h || h.life.phase === 'stopped') return;
    this.leave(h);
    const run = runOf(h);
    const slot = slotOf(h);
    h.life = { phase: 'stopping', slot, run };
    if (run) {
      try {
        await this.call(run, () => run.control.stop(), this.o.stopTimeoutMs, 'stop', true);
        await Promise.race([run.ended, this.delay(this.o.stopTimeoutMs)]);
      } catch (err) {
        this.o.log.warn({ actor: id, err: errorText(err) }, 'actor did not stop cleanly; terminating its worker');
        run.kill(`did not stop cleanly: ${errorText(err)}`);
      }
      await run.task.catch(() => undefined);
      run.close();
    }
    h.life = { phase: 'stopping', slot, run: null };
    await slot?.destroy().catch(() => undefined);
    h.life = { phase: 'stopped' };
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
    const h = this.actors.get(id);
    const run = h ? runOf(h) : null;
    if (!run) throw new Error(`actor ${id} is not running`);
    await this.call(run, () => run.control.resubscribe(), this.o.startTimeoutMs, 'resubscribe');
  }

  /**
   * Replaces the watchlist of every actor: running ones get it now (a message to the worker),
   * starting and restarted ones at launch. Resolves when every running actor took it.
   */
  async setWatchlist(symbols: WatchSymbol[]): Promise<void> {
    this.watchlist = [...symbols];
    const runs = [...this.actors.values()].flatMap((h) => { const run = h.life.phase === 'running' ? runOf(h) : null; return run ? [{ h, run }] : []; });
    await Promise.all(runs.map(({ h, run }) =>
      this.call(run, () => run.control.setWatchlist(this.watchlist), this.o.startTimeoutMs, 'setWatchlist').catch((err: unknown) => {
        this.o.log.warn({ actor: h.spec.id, err: errorText(err) }, 'actor did not take the new watchlist');
      }),
    ));
  }

  currentWatchlist(): WatchSymbol[] {
    return [...this.watchlist];
  }

  /** Test and fault-suite hook: make an actor's worker misbehave. */
  async inject(id: string, fault: Fault): Promise<void> {
    const h = this.actors.get(id);
    const run = h ? runOf(h) : null;
    if (!run) throw new Error(`actor ${id} is not running`);
    // A fault that ends the worker can end it before its reply to inject() arrives (the task and
    // the control port are different channels; a loaded machine reorders them): then the end is
    // the fault taking effect, not a failed injection. Registered before call()'s own handlers.
    let ended = false;
    run.task.then(() => (ended = true), () => (ended = true));
    await this.call(run, () => run.control.inject(fault), this.o.pingTimeoutMs, 'inject').catch((err: unknown) => {
      if (!ended) throw err;
    });
  }

  private statusOf(h: ActorHandle): ActorStatus {
    const stream = h.streamState;
    const phase = h.life.phase;
    let state: ActorStatus['state'];
    if (phase === 'stopped' || phase === 'idle') state = 'stopped';
    else if (phase === 'running' && stream === 'connected') state = 'connected';
    else if (phase === 'running' && (stream === 'degraded' || stream === 'connecting' || stream === 'starting')) state = 'degraded';
    else state = 'disconnected';
    return {
      id: h.spec.id, broker: h.spec.broker, state, phase, streamState: stream,
      lastEventAt: h.lastEventAt, eventsIn: h.eventsIn, restarts: h.restarts,
      reconnects: h.restarts + (h.health?.reconnects ?? 0), queueDepth: h.queueDepth,
      lastError: h.lastError ?? h.health?.lastError ?? null, nextRestartAt: h.life.phase === 'backoff' ? h.life.nextRestartAt : null, health: h.health, everStarted: h.everStarted,
    };
  }

  private async launch(h: ActorHandle, slot: WorkerSlot): Promise<void> {
    h.startedAt = this.clock.now();
    h.runEvents = 0;
    h.queueDepth = 0;
    const sentWatchlist = this.watchlist;
    const run = slot.launch({
      task: {
        actorId: h.spec.id, brokerId: h.spec.broker, flags: h.spec.flags ?? {},
        logLevel: this.o.log.level, batchMax: this.o.batchMax, creditEvents: this.o.creditEvents, allowFaults: this.o.allowFaults,
        ...(h.spec.recordDir ? { recordDir: h.spec.recordDir } : {}),
        ...(this.watchlist.length > 0 ? { watchlist: this.watchlist } : {}),
      },
      onEvents: (events) => {
        this.onEvents(h, events);
        this.grant(h, run, events.length);
      },
    });
    h.life = { phase: 'starting', slot, run };
    run.task.then(
      () => this.onExit(h, run, null),
      (err: unknown) => this.onExit(h, run, err),
    );
    try {
      await this.call(run, () => run.control.start(), this.o.startTimeoutMs, 'start');
      const now = h.life as ActorLife; // changed while start() was awaited
      if (now.phase !== 'starting' || now.run !== run) return;
      h.life = { phase: 'running', slot, run, pingTimer: this.schedulePings(h, run) };
      h.everStarted = true;
      h.lastError = null;
      this.o.log.info({ actor: h.spec.id, broker: h.spec.broker, restarts: h.restarts }, 'actor started');
      // The watchlist changed while the actor was starting: it gets the current one now.
      if (this.watchlist !== sentWatchlist) {
        void this.call(run, () => run.control.setWatchlist(this.watchlist), this.o.startTimeoutMs, 'setWatchlist').catch(() => undefined);
      }
    } catch (err) {
      const phase = (h.life as ActorLife).phase; // changed while start() was awaited
      if (runOf(h) !== run || phase === 'stopping' || phase === 'stopped') return;
      h.lastError = errorText(err);
      this.o.log.error({ actor: h.spec.id, err: h.lastError }, 'actor failed to start');
      run.kill(h.lastError);
    }
  }

  /** Clears the timers of the phase being left. */
  private leave(h: ActorHandle): void {
    if (h.life.phase === 'running') this.clock.clearInterval(h.life.pingTimer);
    if (h.life.phase === 'backoff') this.clock.clearTimeout(h.life.restartTimer);
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
      this.o.log.error({ actor: h.spec.id, err: errorText(err) }, 'processor rejected a batch');
    }
  }

  /** Events taken in but not yet acknowledged, per run (back-pressure), and the re-check timer. */
  private credits = new WeakMap<WorkerRun, { withheld: number; timer: TimerHandle | undefined }>();

  /** Acknowledges `n` events to the worker now, or once the consumer is no longer overloaded. */
  private grant(h: ActorHandle, run: WorkerRun, n: number): void {
    if (this.o.creditEvents <= 0 || !run.ack) return;
    let c = this.credits.get(run);
    if (!c) this.credits.set(run, (c = { withheld: 0, timer: undefined }));
    c.withheld += n;
    if (c.timer !== undefined) return;
    if (!this.o.overloaded()) {
      const ack = c.withheld;
      c.withheld = 0;
      run.ack(ack);
      return;
    }
    const cr = c;
    const recheck = () => {
      cr.timer = undefined;
      if (runOf(h) !== run || cr.withheld === 0) return; // a superseded run gets no credit
      if (this.o.overloaded()) cr.timer = this.clock.setTimeout(recheck, this.o.creditRecheckMs);
      else this.grant(h, run, 0);
    };
    cr.timer = this.clock.setTimeout(recheck, this.o.creditRecheckMs);
  }

  private schedulePings(h: ActorHandle, run: WorkerRun): TimerHandle {
    return this.clock.setInterval(() => {
      if (runOf(h) !== run || h.pinging) return;
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
          if (h.life.phase !== 'running' || h.life.run !== run) return;
          h.lastError = `unresponsive: ${errorText(err)}`;
          this.o.log.error({ actor: h.spec.id }, 'actor missed its ping (hung?); terminating its worker');
          run.kill(h.lastError);
        })
        .finally(() => {
          h.pinging = false;
        });
    }, this.o.pingIntervalMs);
  }

  private onExit(h: ActorHandle, run: WorkerRun, err: unknown): void {
    if (runOf(h) !== run) return;
    if (h.life.phase === 'running') this.clock.clearInterval(h.life.pingTimer);
    run.close();
    const life = h.life;
    if (life.phase !== 'starting' && life.phase !== 'running') return; // stopping: stop() owns the run
    h.restarts++;
    h.lastError = run.abortReason ?? (err ? errorText(err) : (h.lastError ?? 'actor exited'));
    h.streamState = 'disconnected';
    const delay = backoffDelay(h.attempt++, this.o.backoff, this.random);
    const restartTimer = this.clock.setTimeout(() => {
      if (h.life.phase !== 'backoff' || h.life.restartTimer !== restartTimer) return;
      void this.launch(h, life.slot);
    }, delay);
    h.life = { phase: 'backoff', slot: life.slot, run, restartTimer, nextRestartAt: this.clock.now() + delay };
    this.o.log.warn({ actor: h.spec.id, err: h.lastError, restartInMs: delay, restarts: h.restarts }, 'actor died; restarting after backoff');
  }

  /** A control call that cannot hang: it times out, and fails at once if the worker dies. */
  private call<T>(run: WorkerRun, fn: () => Promise<T>, timeoutMs: number, what: string, exitIsSuccess = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = this.clock.setTimeout(() => reject(new Error(`${what} timed out after ${timeoutMs} ms`)), timeoutMs);
      const done = () => this.clock.clearTimeout(timer);
      run.task.then(
        // A clean exit can overtake the reply to stop(): the task and the control port are different channels.
        () => { done(); if (exitIsSuccess) resolve(undefined as T); else reject(new Error(`${what}: actor exited`)); },
        (err: unknown) => { done(); reject(new Error(`${what}: actor died: ${errorText(err)}`)); },
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

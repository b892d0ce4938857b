/**
 * Where an actor's worker runs, behind an interface so the Supervisor's restart and backoff
 * policy is unit tested on fake time with fake workers (tests/actors/supervisor.test.ts). The
 * real host gives each actor its own piscina pool of one worker thread, with a comlink control
 * plane and a raw MessagePort data plane (specs/actors.md).
 */
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import * as Comlink from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { Piscina } from 'piscina';
import type { BrokerEvent } from '../core/types.js';
import type { ActorControl, ActorTask, CreditMessage, DataMessage } from './protocol.js';
import { unpackEvents } from './eventPack.js';

/** What the supervisor asks a host to run: the task without its ports, and where events go. */
export interface WorkerLaunch {
  task: Omit<ActorTask, 'controlPort' | 'dataPort'>;
  /** Every batch of events the worker posts, in order. */
  onEvents(events: BrokerEvent[]): void;
}

/** One run of an actor's worker. */
export interface WorkerRun {
  /** The control plane; a call may hang, the supervisor times every call. */
  readonly control: Pick<ActorControl, 'start' | 'stop' | 'status' | 'resubscribe' | 'inject' | 'setWatchlist'>;
  /** Settles when the worker's task ends: resolves on a clean exit, rejects when it died or was killed. */
  readonly task: Promise<unknown>;
  /** Resolves when the worker posted its end marker after a clean stop. */
  readonly ended: Promise<void>;
  /** Why the supervisor terminated this run itself (the task then rejects with a bare abort). */
  readonly abortReason: string | null;
  /** Terminates the worker; the first reason given is kept. */
  kill(reason: string): void;
  /** Releases the run's channels (idempotent); events posted before the end still arrive. */
  close(): void;
  /** Back-pressure: acknowledges `n` events to the worker (absent: the host has no credit protocol). */
  ack?(n: number): void;
}

/** An actor's place to run workers: one run at a time, many runs over its life (restarts). */
export interface WorkerSlot {
  launch(launch: WorkerLaunch): WorkerRun;
  destroy(): Promise<void>;
}

export interface WorkerHost {
  /** Opens the slot of one actor (on start, and on a start after a stop). */
  open(actorId: string): WorkerSlot;
}

const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.mjs', import.meta.url));

class PiscinaRun implements WorkerRun {
  private readonly abort = new AbortController();
  control!: Comlink.Remote<ActorControl>;
  ctrlPort!: MessagePort;
  dataPort!: MessagePort;
  task!: Promise<unknown>;
  ended!: Promise<void>;
  abortReason: string | null = null;
  private closed = false;

  get signal(): AbortSignal {
    return this.abort.signal;
  }
  kill(reason: string): void {
    this.abortReason ??= reason;
    this.abort.abort();
  }
  ack(n: number): void {
    if (!this.closed) this.dataPort.postMessage({ ack: n } satisfies CreditMessage);
  }
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.control?.[Comlink.releaseProxy]?.();
    this.ctrlPort?.close();
    // Let queued data-plane messages drain before closing: events posted before the end marker still count.
    setImmediate(() => this.dataPort?.close());
  }
}

/** The real host: one piscina pool of one worker thread per actor, with a heap limit. */
export class PiscinaWorkerHost implements WorkerHost {
  constructor(private readonly o: { maxOldGenerationSizeMb: number }) {}

  open(): WorkerSlot {
    const pool = new Piscina({
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
    return {
      launch: ({ task, onEvents }) => {
        const run = new PiscinaRun();
        const ctrl = new MessageChannel();
        const data = new MessageChannel();
        run.ctrlPort = ctrl.port1;
        run.dataPort = data.port1;
        let endSeen!: () => void;
        run.ended = new Promise<void>((resolve) => (endSeen = resolve));
        data.port1.on('message', (msg: DataMessage) => {
          if ('end' in msg) return endSeen();
          onEvents('packed' in msg ? unpackEvents(msg.packed) : msg.events);
        });
        const full: ActorTask = { ...task, controlPort: ctrl.port2, dataPort: data.port2 };
        run.task = pool.run(full, { transferList: [ctrl.port2, data.port2] as any, signal: run.signal });
        run.control = Comlink.wrap<ActorControl>(nodeEndpoint(ctrl.port1));
        return run;
      },
      destroy: () => pool.destroy(),
    };
  }
}

import type { Logger } from 'pino';
import { Supervisor, type ActorSpec, type SupervisorOptions } from '../actors/supervisor.js';
import { loadPlugin } from '../brokers/registry.js';
import { systemClock, type TimerHandle } from '../core/clock.js';
import { FileJournal, type Journal } from '../core/journal.js';
import { Processor } from '../core/processor.js';
import { isRetryableError } from '../db/errors.js';
import type { Storage } from '../db/types.js';
import type { AppConfig } from './config.js';

/**
 * The composition root: brokers (actors in workers) → processor → storage. Used by ingest,
 * greeks, serve and demo, so they all run the same pipeline.
 */
export interface PipelineOptions {
  storage: Storage;
  config: AppConfig;
  log: Logger;
  supervisor?: Partial<Omit<SupervisorOptions, 'sink' | 'log'>>;
  journal?: Journal;
}

export interface StopReport {
  drained: boolean;
  journaledRows: number;
}

export class Pipeline {
  readonly processor: Processor;
  readonly supervisor: Supervisor;

  constructor(readonly opts: PipelineOptions) {
    this.processor = new Processor({
      storage: opts.storage,
      log: opts.log,
      flush: opts.config.flush,
      journal: opts.journal ?? new FileJournal(opts.config.journalDir),
      isRetryable: isRetryableError,
    });
    this.supervisor = new Supervisor({ sink: (events) => this.processor.ingest(events), log: opts.log, ...opts.supervisor });
  }

  async startActor(spec: ActorSpec): Promise<void> {
    await this.supervisor.start(spec);
  }

  async stopActor(id: string): Promise<void> {
    await this.supervisor.stop(id);
  }

  /** Stops every actor, then writes everything accepted. If the database does not take it within
   * `drainTimeoutMs` (default SHUTDOWN_DRAIN_MS, 15 s), what is left goes to the journal (replayed on the next start). */
  async stop(drainTimeoutMs = this.opts.config.shutdownDrainMs ?? 15_000): Promise<StopReport> {
    await this.supervisor.stopAll();
    let timer: TimerHandle | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = systemClock.setTimeout(() => resolve('timeout'), drainTimeoutMs)));
    const result = await Promise.race([this.processor.drain().then(() => 'drained' as const), timedOut]);
    systemClock.clearTimeout(timer);
    this.processor.close();
    if (result === 'drained') return { drained: true, journaledRows: 0 };
    const journaledRows = this.processor.flusher.spillAll();
    this.opts.log.warn({ journaledRows }, 'database did not take all rows in time: the rest is in the journal and is written on the next start');
    return { drained: false, journaledRows };
  }
}

/** Validates every broker's configuration in the main thread before any worker starts. */
export async function checkBrokerConfigs(specs: ActorSpec[]): Promise<void> {
  for (const spec of specs) {
    const plugin = await loadPlugin(spec.broker);
    plugin.parseConfig(process.env, spec.flags ?? {});
  }
}

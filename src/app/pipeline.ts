import { join } from 'node:path';
import type { Logger } from 'pino';
import { Supervisor, type ActorSpec, type SupervisorOptions } from '../actors/supervisor.js';
import { loadPlugin } from '../brokers/registry.js';
import { systemClock, type TimerHandle } from '../core/clock.js';
import { FileDeadLetter, type DeadLetter } from '../core/deadLetter.js';
import { FileJournal, MemoryJournal, type Journal } from '../core/journal.js';
import { isPositionSet, isSnapshotRow, isTradeRow } from '../core/journalRows.js';
import { Processor } from '../core/processor.js';
import { isRowRejection } from '../db/errors.js';
import { createThreadWriter, type SnapshotWriter } from '../db/snapshotWriter.js';
import type { Storage } from '../db/types.js';
import type { AppConfig } from './config.js';
import { RedisSink, type RedisSinkOptions } from '../redis/sink.js';
import { feedFromProcessor } from '../redis/wire.js';
import type { WatchSymbol } from '../quotes/symbols.js';

/**
 * The composition root: brokers (actors in workers) → processor → storage. Used by ingest,
 * greeks, serve and demo, so they all run the same pipeline.
 */
export interface PipelineOptions {
  storage: Storage;
  config: AppConfig;
  log: Logger;
  supervisor?: Partial<Omit<SupervisorOptions, 'sink' | 'log'>>;
  /** Snapshot journal; when given without `journals`, trades and positions journal in memory too (tests). */
  journal?: Journal;
  journals?: { trades?: Journal; positions?: Journal };
  deadLetter?: DeadLetter;
  /** Redis fan-out options beside config.redisUrl (tests: a key prefix, a clock). */
  redis?: Partial<Omit<RedisSinkOptions, 'log'>>;
}

export interface StopReport {
  drained: boolean;
  journaledRows: number;
  /** Rows lost because the journal could not be written at stop (the exit code says so). */
  lostRows: number;
  journalError: string | null;
}

/**
 * JOURNAL_DIR holds the snapshot segments at its top level (as before), `trades/` and
 * `positions/` for the other writers, `quarantine/` for what a replay set aside, and
 * `dead-letter.jsonl` for rows the database refused.
 */
export function journalsIn(dir: string): { snapshots: Journal; trades: Journal; positions: Journal; deadLetter: DeadLetter } {
  return {
    snapshots: new FileJournal(dir, { validate: isSnapshotRow }),
    trades: new FileJournal(join(dir, 'trades'), { validate: isTradeRow }),
    positions: new FileJournal(join(dir, 'positions'), { validate: isPositionSet }),
    deadLetter: new FileDeadLetter(join(dir, 'dead-letter.jsonl')),
  };
}

export class Pipeline {
  readonly processor: Processor;
  readonly supervisor: Supervisor;
  /** The optional Redis fan-out (REDIS_URL): prices and Greeks of every broker, risk when wired (src/app/risk.ts). */
  readonly redis: RedisSink | undefined;
  private readonly redisOff: (() => void) | undefined;
  /** The writer thread for snapshot batches (PostgreSQL with WRITER_THREAD on), else undefined. */
  readonly writer: SnapshotWriter | undefined;

  constructor(readonly opts: PipelineOptions) {
    const disk = opts.journal ? undefined : journalsIn(opts.config.journalDir);
    const target = opts.storage.target;
    const writer = (this.writer = opts.config.writerThread !== false && target
      ? createThreadWriter(target, { log: opts.log, maxConnections: opts.config.flush.maxInFlight ?? 8 })
      : undefined);
    const storage = opts.storage;
    this.processor = new Processor({
      // Snapshot batches go to the writer thread; trades and position sets (few, transactional) stay here.
      storage: writer
        ? { writeSnapshots: (rows) => writer.write(rows), writeTrades: (rows) => storage.writeTrades(rows), replacePositions: (b, a, p, at) => storage.replacePositions(b, a, p, at) }
        : storage,
      log: opts.log,
      flush: opts.config.flush,
      tradeAcceptWaitMs: opts.config.tradeAcceptWaitMs,
      journal: opts.journal ?? disk!.snapshots,
      tradeJournal: opts.journals?.trades ?? disk?.trades ?? new MemoryJournal(),
      positionJournal: opts.journals?.positions ?? disk?.positions ?? new MemoryJournal(),
      deadLetter: opts.deadLetter ?? disk?.deadLetter,
      // Only a row the database refuses for its content is given up on (and dead-lettered);
      // everything else (down, read-only, timeouts, permissions...) is retried and journaled.
      isRetryable: (err) => !isRowRejection(err),
    });
    const highWater = opts.config.backpressureRows ?? 25_000;
    const processor = this.processor;
    this.supervisor = new Supervisor({
      sink: (events) => this.processor.ingest(events), log: opts.log,
      // Back-pressure (specs/performance.md): a burst waits in the actors, not in this thread's heap.
      overloaded: () => processor.pendingSnapshotRows >= highWater,
      ...opts.supervisor,
    });
    const redisUrl = opts.redis?.url ?? opts.config.redisUrl;
    if (redisUrl) {
      this.redis = new RedisSink({ clock: systemClock, ...opts.redis, url: redisUrl, log: opts.log.child({ sink: 'redis' }) });
      this.redisOff = feedFromProcessor(this.processor, this.redis);
      this.redis.start();
    }
    if (opts.config.watchlist && opts.config.watchlist.length > 0) void this.setWatchlist(opts.config.watchlist);
  }

  /** The watched symbols now (WATCHLIST, then POST/DELETE /v1/watchlist). */
  watchlist(): WatchSymbol[] {
    return this.supervisor.currentWatchlist();
  }

  /** Replaces the watchlist: the processor keeps watched Greeks, every actor streams the symbols. */
  async setWatchlist(symbols: WatchSymbol[]): Promise<void> {
    const unique = [...new Map(symbols.map((s) => [s.symbol, s])).values()];
    this.processor.setWatchlist(unique.map((s) => s.symbol));
    await this.supervisor.setWatchlist(unique);
  }

  async startActor(spec: ActorSpec): Promise<void> {
    await this.supervisor.start(spec);
  }

  async stopActor(id: string): Promise<void> {
    await this.supervisor.stop(id);
  }

  /**
   * Stops every actor, then writes everything accepted. If writes are failing (database down,
   * read-only, timing out) what is pending goes to the journal at once; otherwise the database
   * gets up to `drainTimeoutMs` (SHUTDOWN_DRAIN_MS, default 5 s), cut short as soon as a write
   * fails. Either way a `docker stop` (SIGKILL 10 s after SIGTERM) finds everything on disk.
   */
  async stop(drainTimeoutMs = this.opts.config.shutdownDrainMs ?? 5_000): Promise<StopReport> {
    if (!this.processor.writesFailing) {
      // Actors stop first so their last rows are accepted; while writes fail, journaling comes first.
      await this.supervisor.stopAll();
    }
    let result: 'drained' | 'timeout' | 'failing' = 'failing';
    if (!this.processor.writesFailing) {
      let timer: TimerHandle | undefined;
      let poll: TimerHandle | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = systemClock.setTimeout(() => resolve('timeout'), drainTimeoutMs)));
      const failing = new Promise<'failing'>((resolve) => (poll = systemClock.setInterval(() => this.processor.writesFailing && resolve('failing'), 50)));
      result = await Promise.race([this.processor.drain().then(() => 'drained' as const), timedOut, failing]);
      systemClock.clearTimeout(timer);
      systemClock.clearInterval(poll);
    }
    this.processor.close();
    this.redisOff?.();
    await this.redis?.close();
    if (result === 'drained') {
      await this.writer?.close();
      return { drained: true, journaledRows: 0, lostRows: 0, journalError: null };
    }
    const first = this.processor.spillAll();
    // Actors still running (writes were failing) are stopped now; what they hand over in between is journaled too.
    await this.supervisor.stopAll();
    const second = this.processor.spillAll();
    const journaledRows = first.journaled + second.journaled;
    const lostRows = first.lost + second.lost;
    const journalError = first.error ?? second.error;
    // In-flight batches were journaled with the rest (replaying them is harmless): do not wait for them.
    await this.writer?.terminate();
    if (lostRows > 0) {
      this.opts.log.error({ journaledRows, lostRows, err: journalError }, 'JOURNAL WRITE FAILED at stop: rows that could not be written are lost');
    } else {
      this.opts.log.warn({ journaledRows, why: result }, 'database did not take all rows in time: the rest is in the journal and is written on the next start');
    }
    return { drained: false, journaledRows, lostRows, journalError };
  }
}

/** Validates every broker's configuration in the main thread before any worker starts. */
export async function checkBrokerConfigs(specs: ActorSpec[]): Promise<void> {
  for (const spec of specs) {
    const plugin = await loadPlugin(spec.broker);
    plugin.parseConfig(process.env, spec.flags ?? {});
  }
}

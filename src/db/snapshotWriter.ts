/**
 * The main thread's side of the writer thread (writerThread.ts): write(rows) packs a batch,
 * posts it (the numbers are transferred) and resolves with the thread's WriteResult, or rejects
 * with a StorageError carrying the thread's classification. The thread is started on the first
 * write; if it dies, every batch in flight fails as retryable (the flush policy keeps the rows
 * and retries) and the next write starts a new thread.
 */
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { systemClock, type TimerHandle } from '../core/clock.js';
import type { GreekSnapshot } from '../core/types.js';
import type { PostgresTarget } from './driver.js';
import { StorageError } from './errors.js';
import { packSnapshots } from './snapshotPack.js';
import type { WriteResult } from './types.js';
import type { WriterInit, WriterReply, WriterRequest } from './writerThread.js';

const ENTRY = fileURLToPath(new URL('./writer-entry.mjs', import.meta.url));

export interface SnapshotWriter {
  write(rows: GreekSnapshot[]): Promise<WriteResult>;
  /** Waits for the batches in flight, closes the thread's pool and ends the thread. */
  close(): Promise<void>;
  /** Ends the thread now (batches in flight fail as retryable): for a stop whose rows were journaled. */
  terminate(): Promise<void>;
}

interface Waiter {
  resolve(r: WriteResult): void;
  reject(e: Error): void;
}

export function createThreadWriter(target: PostgresTarget, opts: { log: Logger; maxConnections: number }): SnapshotWriter {
  let worker: Worker | undefined;
  let nextId = 1;
  const waiting = new Map<number, Waiter>();
  let closing: Promise<void> | undefined;
  let starts = 0;

  const failAll = (why: string) => {
    const err = new StorageError(`writeSnapshots failed (WRITER_THREAD): ${why}`, true, 'WRITER_THREAD');
    for (const w of waiting.values()) w.reject(err);
    waiting.clear();
  };

  const start = (): Worker => {
    const init: WriterInit = { target, maxConnections: opts.maxConnections, logLevel: opts.log.level };
    const w = new Worker(ENTRY, { workerData: init, name: 'riskwire-writer' });
    // Like an idle pool it must not hold the process open by itself; the flush policy's timers and the caller's awaits do.
    w.unref();
    starts++;
    w.on('message', (msg: WriterReply) => {
      const waiter = waiting.get(msg.id);
      if (!waiter) return;
      waiting.delete(msg.id);
      if ('error' in msg) waiter.reject(new StorageError(msg.error.message, msg.error.retryable, msg.error.code));
      else if ('inserted' in msg) waiter.resolve({ inserted: msg.inserted, duplicates: msg.duplicates, at: msg.at });
      else waiter.resolve({ inserted: 0, duplicates: 0 });
    });
    w.on('error', (err) => opts.log.error({ err: err.message }, 'writer thread failed; batches in flight are retried'));
    w.on('exit', (code) => {
      if (worker === w) worker = undefined;
      if (waiting.size > 0) failAll(`the writer thread exited (${code})`);
    });
    if (starts > 1) opts.log.warn({ starts }, 'writer thread restarted');
    return w;
  };

  const send = <T>(msg: WriterRequest, transfer: ArrayBuffer[] = []): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      worker ??= start();
      waiting.set(msg.id, { resolve: resolve as (r: WriteResult) => void, reject });
      worker.postMessage(msg, transfer);
    });

  return {
    write(rows) {
      if (closing) return Promise.reject(new StorageError('writeSnapshots: the writer thread is closed', true, 'WRITER_THREAD'));
      if (rows.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
      const batch = packSnapshots(rows);
      return send<WriteResult>({ id: nextId++, batch }, [batch.nums.buffer as ArrayBuffer, batch.text.buffer as ArrayBuffer]);
    },
    close() {
      closing ??= (async () => {
        const w = worker;
        if (!w) return;
        try {
          let timer: TimerHandle | undefined;
          await Promise.race([send({ id: nextId++, close: true }), new Promise<void>((r) => (timer = systemClock.setTimeout(() => r(), 10_000)))]);
          systemClock.clearTimeout(timer);
        } catch {
          /* the thread is gone already */
        }
        await w.terminate();
      })();
      return closing;
    },
    async terminate() {
      closing ??= Promise.resolve();
      const w = worker;
      worker = undefined;
      failAll('terminated');
      await w?.terminate();
    },
  };
}

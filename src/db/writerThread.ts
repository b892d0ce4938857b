/**
 * The writer thread (WRITER_THREAD=1, PostgreSQL only; off by default, see D51): snapshot batches arrive packed
 * (snapshotPack.ts), are validated, rendered into the unnest insert's parameters and written on
 * this thread's own postgres.js pool, so neither the rendering nor the driver's socket work
 * runs on the main thread, where the processor and the API live. Errors go back as
 * { message, retryable, code } and become a StorageError again on the main thread, so the flush
 * policy (retry, bisect, dead-letter, journal) is unchanged. A reply carries the time the
 * database confirmed the batch (`at`): the persist latency is received → committed, not
 * received → the main thread got round to reading the reply.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { systemClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import type { PostgresTarget } from './driver.js';
import { createPostgresDriver } from './driver-postgres.js';
import { toStorageError } from './errors.js';
import { unpackSnapshots, type PackedSnapshots } from './snapshotPack.js';
import { createStorage } from './storage.js';

export interface WriterInit {
  target: PostgresTarget;
  maxConnections: number;
  logLevel: string;
}

export type WriterRequest = { id: number; batch: PackedSnapshots } | { id: number; close: true };
export type WriterReply =
  | { id: number; inserted: number; duplicates: number; at: number }
  | { id: number; error: { message: string; retryable: boolean; code: string | undefined } }
  | { id: number; closed: true };

const init = workerData as WriterInit;
const log = createLogger({ name: 'writer', level: init.logLevel });
const driver = createPostgresDriver(init.target.url, {
  max: init.maxConnections, connectTimeoutSec: init.target.connectTimeoutSec, statementTimeoutMs: init.target.statementTimeoutMs,
});
const storage = createStorage(driver, { log, clock: systemClock, maintenance: false });
const port = parentPort!;

port.on('message', (msg: WriterRequest) => {
  if ('close' in msg) {
    storage.close().catch(() => undefined).finally(() => port.postMessage({ id: msg.id, closed: true } satisfies WriterReply));
    return;
  }
  storage.writeSnapshots(unpackSnapshots(msg.batch)).then(
    (r) => port.postMessage({ id: msg.id, inserted: r.inserted, duplicates: r.duplicates, at: systemClock.now() } satisfies WriterReply),
    (err: unknown) => {
      const e = toStorageError(err, 'writeSnapshots');
      port.postMessage({ id: msg.id, error: { message: e.message, retryable: e.retryable, code: e.code } } satisfies WriterReply);
    },
  );
});

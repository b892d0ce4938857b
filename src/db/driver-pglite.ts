/** SqlDriver over embedded PGlite (PostgreSQL 18 in WASM, one connection, in this process). */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { ConfigError } from '../core/errors.js';
import type { SqlDriver, SqlSession } from './driver.js';
import { tryLock, type FileLock } from './embedded/lock.js';

function sessionOf(db: Pick<PGlite | Transaction, 'query' | 'exec'>): SqlSession {
  return {
    async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
      return (await db.query<T>(text, params)).rows;
    },
    async execute(text: string, params: unknown[] = []): Promise<number> {
      return (await db.query(text, params)).affectedRows ?? 0;
    },
    async exec(script: string): Promise<void> {
      await db.exec(script);
    },
  };
}

/**
 * `dir` is a folder (created if missing) or `memory://` for a throwaway database. PGlite runs
 * inside one process: a folder is locked while open, and a second process refuses with one line
 * instead of opening (and corrupting) the same files.
 */
export async function createPgliteDriver(dir: string): Promise<SqlDriver> {
  let lock: FileLock | undefined;
  if (!dir.startsWith('memory://')) {
    await mkdir(dir, { recursive: true });
    const got = await tryLock(join(dir, 'riskwire.lock'));
    if (!('release' in got)) {
      throw new ConfigError(`PGLITE_DIR ${dir} is open in process ${got.heldBy}, and PGlite serves one process: stop that one, or unset PGLITE_DIR to use the shared embedded PostgreSQL`);
    }
    lock = got;
  }
  let db: PGlite;
  try {
    db = await PGlite.create(dir);
  } catch (err) {
    await lock?.release();
    throw err;
  }
  const base = sessionOf(db);
  return {
    kind: 'pglite',
    ...base,
    async queryArrays(text: string, params: unknown[] = []): Promise<unknown[][]> {
      return (await db.query<unknown[]>(text, params, { rowMode: 'array' })).rows;
    },
    transaction: <T>(fn: (tx: SqlSession) => Promise<T>) => db.transaction((tx) => fn(sessionOf(tx))),
    async close(): Promise<void> {
      if (!db.closed) await db.close();
      await lock?.release();
    },
  };
}

/** SqlDriver over embedded PGlite (PostgreSQL 18 in WASM, one connection, in this process). */
import { mkdir } from 'node:fs/promises';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { SqlDriver, SqlSession } from './driver.js';

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

/** `dir` is a folder (created if missing) or `memory://` for a throwaway database. */
export async function createPgliteDriver(dir: string): Promise<SqlDriver> {
  if (!dir.startsWith('memory://')) await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir);
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
    },
  };
}

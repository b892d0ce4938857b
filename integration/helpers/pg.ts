/**
 * Database helpers for integration tests. The whole API:
 *
 *   describePg(name, fn)        describe() for tests that need a real PostgreSQL server. When the
 *                               server is unreachable: skipped locally, but FAILS when CI=true.
 *   pgAvailable()               Promise<boolean>: can we reach TEST_DATABASE_URL? (checked once)
 *   freshPostgresUrl()          a new, uniquely named empty database: { url, drop() }.
 *   freshPglite()               a new embedded database: { dir, drop() } (memory:// by default,
 *                               or a temp folder with { onDisk: true }).
 *   openTestStorage(backend)    a migrated Storage on a fresh database of that backend:
 *                               { storage, url?, close() } where close() also drops the database.
 *   BACKENDS                    ['postgres', 'pglite'], for describe.each.
 *   testLogger                  a silent pino logger.
 *
 * TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres) must allow CREATE DATABASE.
 *
 *   describe.each(BACKENDS)('%s', (backend) => {
 *     let t: TestStorage;
 *     beforeAll(async () => { t = await openTestStorage(backend); });
 *     afterAll(() => t?.close());
 *   });
 * (describeBackends(name, fn) does this dance for you, and routes 'postgres' through describePg.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import postgres from 'postgres';
import { describe, it } from 'vitest';
import { redactUrl } from '../../src/core/logger.js';
import { openStorage } from '../../src/db/index.js';
import type { Storage } from '../../src/db/types.js';

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';

export type Backend = 'postgres' | 'pglite';
export const BACKENDS: Backend[] = ['postgres', 'pglite'];

export const testLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

const admin = () => postgres(TEST_DATABASE_URL, { max: 1, connect_timeout: 3, onnotice: () => {}, idle_timeout: 1 });

let availability: Promise<boolean> | undefined;

/** True when TEST_DATABASE_URL answers a query. Checked once per test file. */
export function pgAvailable(): Promise<boolean> {
  availability ??= (async () => {
    const sql = admin();
    try {
      await sql`SELECT 1`;
      return true;
    } catch {
      return false;
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {});
    }
  })();
  return availability;
}

// Decided once at import (top-level await) because describe() must know synchronously whether to skip.
const PG_UP = await pgAvailable();
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

/** describe() for PostgreSQL tests: runs when reachable; otherwise fails in CI, skips elsewhere. */
export function describePg(name: string, fn: () => void): void {
  if (PG_UP) {
    describe(name, fn);
  } else if (IN_CI) {
    describe(name, () => {
      it('needs PostgreSQL', () => {
        throw new Error(`PostgreSQL is not reachable at ${redactUrl(TEST_DATABASE_URL)}: start it or set TEST_DATABASE_URL (CI=true, so this fails instead of skipping)`);
      });
    });
  } else {
    describe.skip(`${name} (PostgreSQL not reachable at ${redactUrl(TEST_DATABASE_URL)})`, fn);
  }
}

/** A new empty database on the test server, dropped (even with open connections) by drop(). */
export async function freshPostgresUrl(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `riskwire_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const sql = admin();
  try {
    await sql.unsafe(`CREATE DATABASE "${name}"`);
  } finally {
    await sql.end({ timeout: 1 });
  }
  const url = new URL(TEST_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const s = admin();
      try {
        await s.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await s.end({ timeout: 1 });
      }
    },
  };
}

/** A new embedded database location: memory:// (default) or a temp folder removed by drop(). */
export async function freshPglite(opts: { onDisk?: boolean } = {}): Promise<{ dir: string; drop(): Promise<void> }> {
  if (!opts.onDisk) return { dir: 'memory://', drop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'riskwire-pglite-'));
  return { dir, drop: () => rm(dir, { recursive: true, force: true }) };
}

export interface TestStorage {
  storage: Storage;
  backend: Backend;
  /** The fresh database's URL (postgres only). */
  url?: string;
  /** Closes the storage and drops its database. */
  close(): Promise<void>;
}

export async function openTestStorage(backend: Backend, opts: { onDisk?: boolean } = {}): Promise<TestStorage> {
  const db = backend === 'postgres' ? await freshPostgresUrl() : await freshPglite(opts);
  const url = 'url' in db ? db.url : undefined;
  // A small pool: many test files share one server.
  const storage = await openStorage({ databaseUrl: url, pgliteDir: 'dir' in db ? db.dir : undefined, log: testLogger, maxConnections: 4 });
  return {
    storage,
    backend,
    url,
    async close() {
      await storage.close().catch(() => {});
      await db.drop();
    },
  };
}

/** describe.each over both backends; the postgres half goes through describePg. */
export function describeBackends(name: string, fn: (backend: Backend) => void): void {
  describePg(`${name} [postgres]`, () => fn('postgres'));
  describe(`${name} [pglite]`, () => fn('pglite'));
}

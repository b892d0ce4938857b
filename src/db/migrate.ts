/**
 * Applies src/db/migrations/NNNN_name.sql in order, each exactly once, tracked in
 * riskwire_migrations. Everything runs in one transaction that first takes an advisory lock, so
 * several processes starting against the same empty database queue up instead of racing on
 * CREATE TABLE (IF NOT EXISTS is not safe under concurrency on its own).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { SqlDriver } from './driver.js';

/** Arbitrary, fixed: the same key in every Riskwire process. */
export const MIGRATION_LOCK_KEY = 7263510001;

export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

export interface Migration {
  id: string;
  sql: string;
  checksum: string;
}

/** Reads the migration files, ordered by their numeric prefix. */
export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const names = (await readdir(dir)).filter((n) => /^\d{4}_[\w-]+\.sql$/.test(n)).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(join(dir, name), 'utf8');
      return { id: name.replace(/\.sql$/, ''), sql, checksum: createHash('sha256').update(sql).digest('hex') };
    }),
  );
}

/** Returns the ids it applied (empty when the database was up to date). */
export async function migrate(driver: SqlDriver, log: Logger, migrations?: Migration[]): Promise<string[]> {
  const all = migrations ?? (await loadMigrations());
  const applied = await driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS riskwire_migrations (
      id text PRIMARY KEY,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Map(
      (await tx.query<{ id: string; checksum: string }>('SELECT id, checksum FROM riskwire_migrations')).map((r) => [r.id, r.checksum]),
    );
    const ran: string[] = [];
    for (const m of all) {
      const seen = done.get(m.id);
      if (seen !== undefined) {
        // An applied migration must never be edited: a new one must be added instead.
        if (seen !== m.checksum) log.warn({ migration: m.id }, 'applied migration file has changed since it ran; add a new migration instead');
        continue;
      }
      await tx.exec(m.sql);
      await tx.query('INSERT INTO riskwire_migrations (id, checksum) VALUES ($1, $2)', [m.id, m.checksum]);
      ran.push(m.id);
    }
    return ran;
  });
  if (applied.length > 0) log.info({ applied }, 'database migrated');
  return applied;
}

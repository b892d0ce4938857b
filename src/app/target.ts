/**
 * Which database a command reads and writes: the real record, or the demo's own database.
 * Every command that takes `--demo` resolves its target here (one place, one rule):
 *
 *   real record  DATABASE_URL if set; else PGlite if PGLITE_DIR is set; else the shared
 *                embedded PostgreSQL in DATA_DIR/pg (started on demand)
 *   --demo       DEMO_DATABASE_URL if set; else the embedded PostgreSQL in DATA_DIR/demo/pg,
 *                with its own journal (DATA_DIR/demo/journal), so simulated rows never reach
 *                the real record, not even through a journal replay
 *
 *   const target = resolveDataTarget({ demo: flags.demo === true });
 *   const storage = await openTargetStorage(target, log);
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import { openStorage, type OpenStorageOptions, type Storage } from '../db/index.js';
import { describeTarget, parseDatabaseUrl } from '../db/config.js';
import { readAppConfig, type AppConfig } from './config.js';

export interface DataTarget {
  demo: boolean;
  databaseUrl?: string;
  pgliteDir?: string;
  embeddedDir?: string;
  /** The journal that belongs to this database. */
  journalDir: string;
  /** For people: "embedded PostgreSQL in /x/.data/pg", "PostgreSQL at host:5432/db (DATABASE_URL)". */
  label: string;
}

/** The `--demo` line every reading command puts in its --help. */
export const DEMO_FLAG_HELP = '--demo             read the demo\'s own database (DATA_DIR/demo) instead of the real record';

export function resolveDataTarget(opts: { demo?: boolean } = {}, env: Record<string, string | undefined> = process.env): DataTarget {
  const config = readAppConfig(env);
  if (opts.demo) {
    const url = env.DEMO_DATABASE_URL?.trim();
    const demoDir = join(config.dataDir, 'demo');
    const journalDir = join(demoDir, 'journal');
    if (url) return { demo: true, databaseUrl: url, journalDir, label: `demo database: PostgreSQL at ${describeTarget(parseDatabaseUrl(url))} (DEMO_DATABASE_URL)` };
    const embeddedDir = join(demoDir, 'pg');
    return { demo: true, embeddedDir, journalDir, label: `demo database: embedded PostgreSQL in ${embeddedDir}` };
  }
  if (config.databaseUrl) {
    return { demo: false, databaseUrl: config.databaseUrl, journalDir: config.journalDir, label: `PostgreSQL at ${describeTarget(parseDatabaseUrl(config.databaseUrl))} (DATABASE_URL)` };
  }
  if (config.pgliteDir) {
    return { demo: false, pgliteDir: config.pgliteDir, journalDir: config.journalDir, label: `PGlite in ${config.pgliteDir} (PGLITE_DIR, one process at a time)` };
  }
  return { demo: false, embeddedDir: config.embeddedDir, journalDir: config.journalDir, label: `embedded PostgreSQL in ${config.embeddedDir}` };
}

/** The AppConfig with this target's journal (what a Pipeline writing to the target needs). */
export function configFor(target: DataTarget, config: AppConfig = readAppConfig()): AppConfig {
  return { ...config, journalDir: target.journalDir };
}

export function openTargetStorage(target: DataTarget, log: Logger, extra: Omit<OpenStorageOptions, 'log' | 'databaseUrl' | 'pgliteDir' | 'embeddedDir'> = {}): Promise<Storage> {
  return openStorage({ ...extra, log, databaseUrl: target.databaseUrl, pgliteDir: target.pgliteDir, embeddedDir: target.embeddedDir });
}

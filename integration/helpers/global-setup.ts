/**
 * vitest globalSetup: makes sure the integration tests have a PostgreSQL server.
 *
 *   TEST_DATABASE_URL set              used as is (CI: the system server)
 *   unset, a server on 127.0.0.1:5432  that one (the default of helpers/pg.ts)
 *   unset, nothing on 5432             the embedded PostgreSQL (npm package) started in a temp
 *                                      folder for this run, stopped and removed at the end
 *
 * It also makes RISKWIRE_TEST_DATA_ROOT, a temp folder under which CLI runs get their DATA_DIR
 * (helpers/cli.ts), so no test ever touches ./.data; any embedded server a test left running
 * there is stopped at the end.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { ensureEmbedded, stopEmbedded } from '../../src/db/embedded/server.js';
import { patchPostgres } from '../../scripts/patch-postgres.mjs';

export const SYSTEM_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

async function answers(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 }).catch(() => {});
  }
}

/** The URL tests should use, starting the embedded server in `root` when nothing else answers. */
export async function resolveTestDatabase(env: Record<string, string | undefined>, root: string, systemUrl = SYSTEM_URL): Promise<{ url: string; embedded: boolean }> {
  if (env.TEST_DATABASE_URL) return { url: env.TEST_DATABASE_URL, embedded: false };
  if (await answers(systemUrl)) return { url: systemUrl, embedded: false };
  const server = await ensureEmbedded(join(root, 'test-server'));
  return { url: server.url, embedded: true };
}

/** Stops every embedded server under root (test-server and any DATA_DIR a test used). */
export async function stopServersUnder(root: string, depth = 4): Promise<void> {
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  await Promise.all(entries.filter((e) => e.isDirectory()).map(async (e) => {
    const dir = join(root, e.name);
    if ((await readdir(dir).catch(() => [] as string[])).includes('data')) await stopEmbedded(dir).catch(() => undefined);
    else if (depth > 0) await stopServersUnder(dir, depth - 1);
  }));
}

/** Builds dist/ once up front (bin/riskwire.mjs rebuilds when src/ changed), so CLI tests start fast. */
function buildCli(): void {
  const r = spawnSync(process.execPath, [join(process.cwd(), 'bin', 'riskwire.mjs'), 'help'], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`building the CLI (node bin/riskwire.mjs help) failed with exit ${r.status}`);
}

export default async function setup(): Promise<() => Promise<void>> {
  // npm ci applies it (postinstall); a checkout whose node_modules predates the script gets it here (D93).
  patchPostgres();
  buildCli();
  const root = await mkdtemp(join(tmpdir(), 'riskwire-test-'));
  await chmod(root, 0o755); // as root the embedded server runs as user postgres, who must enter it
  process.env.RISKWIRE_TEST_DATA_ROOT = root;
  // RISKWIRE_TEST_SYSTEM_URL replaces the 5432 probe (to try the fresh-machine path where a server runs).
  const db = await resolveTestDatabase(process.env, root, process.env.RISKWIRE_TEST_SYSTEM_URL || SYSTEM_URL);
  process.env.TEST_DATABASE_URL = db.url;
  if (db.embedded) process.stderr.write(`no TEST_DATABASE_URL and nothing on 127.0.0.1:5432: using the embedded PostgreSQL in ${root}\n`);
  return async () => {
    await stopServersUnder(root);
    await rm(root, { recursive: true, force: true });
  };
}

/** `npm run sim` (each simulator prints working export lines) and `npm run db` (status, stop, purge). */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopEmbedded } from '../../src/db/embedded/server.js';
import { runCli, type CliRun } from '../helpers/cli.js';
import { describePg, freshPostgresUrl } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

const exportsOf = (stdout: string) =>
  Object.fromEntries([...stdout.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]));

const reachable = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect({ host, port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('npm run sim', () => {
  const running: CliRun[] = [];
  afterAll(async () => {
    for (const r of running) r.child.kill('SIGTERM');
    await Promise.all(running.map((r) => r.exit));
  });
  const start = async (args: string[]) => {
    const run = runCli('sim', args);
    running.push(run);
    await waitFor(() => /# then: npm run ingest/.test(run.stdout()), `sim ${args[0]} to print its exports`, 30_000, 100);
    return exportsOf(run.stdout());
  };

  it('tasty prints TASTY_* exports that npm run greeks can use as they are', { timeout: 90_000 }, async () => {
    const env = await start(['tasty']);
    expect(Object.keys(env).sort()).toEqual(['TASTY_ACCOUNT_STREAMER_URL', 'TASTY_API_URL', 'TASTY_CLIENT_SECRET', 'TASTY_REFRESH_TOKEN']);
    const greeks = runCli('greeks', ['--broker=tasty', '--once', '--json', '--timeout=30s'], env);
    expect(await greeks.exit, greeks.stderr()).toBe(0);
    expect(greeks.stdout().trim().split('\n').map((l) => JSON.parse(l).broker)).toContain('tasty');
  });

  it('ibkr prints the Client Portal exports, on the --port asked for', { timeout: 60_000 }, async () => {
    const port = await freePort();
    const env = await start(['ibkr', `--port=${port}`]);
    expect(env).toEqual({ IBKR_TRANSPORT: 'cpapi', IBKR_GATEWAY_URL: `https://127.0.0.1:${port}`, IBKR_TLS_INSECURE: '1' });
    expect(await reachable('127.0.0.1', port)).toBe(true);
  });

  it('ibkr-tws prints the TWS exports and listens there', { timeout: 60_000 }, async () => {
    const env = await start(['ibkr-tws']);
    expect(env.IBKR_TRANSPORT).toBe('tws');
    expect(await reachable(env.IBKR_TWS_HOST, Number(env.IBKR_TWS_PORT))).toBe(true);
  });
});

/** A port that is free right now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

describe('npm run db -- status and stop on a fresh DATA_DIR', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-db-'));
  chmodSync(dir, 0o755); // as root the embedded server runs as user postgres, who must enter it
  afterAll(async () => {
    await stopEmbedded(join(dir, 'pg'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('not created yet → running after a command used it → stopped', { timeout: 90_000 }, async () => {
    const env = { DATA_DIR: dir };
    const before = runCli('db', ['status'], env);
    expect(await before.exit, before.stderr()).toBe(0);
    expect(before.stdout()).toContain(`record: embedded PostgreSQL in ${join(dir, 'pg')}: not created yet`);

    const timeline = runCli('timeline', ['--since=1m'], env);
    expect(await timeline.exit, timeline.stderr()).toBe(0);

    const during = runCli('db', ['status'], env);
    expect(await during.exit, during.stderr()).toBe(0);
    expect(during.stdout()).toMatch(/record: embedded PostgreSQL in .*: running \(pid \d+, port \d+, PostgreSQL 18\)\n {2}greek_snapshots: 0 rows/);

    const stop = runCli('db', ['stop'], env);
    expect(await stop.exit, stop.stderr()).toBe(0);
    expect(stop.stdout()).toContain(`record: stopped (${join(dir, 'pg')})`);
    const after = runCli('db', ['status'], env);
    await after.exit;
    expect(after.stdout()).toContain(`record: embedded PostgreSQL in ${join(dir, 'pg')}: stopped`);
  });
});

describePg('npm run db -- purge --broker=sim', () => {
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    db = await freshPostgresUrl();
  });
  afterAll(() => db?.drop());

  it('asks for --yes when not at a terminal, then deletes that broker\'s rows and only those', { timeout: 90_000 }, async () => {
    const env = { DATABASE_URL: db.url };
    const ingest = runCli('ingest', ['--broker=sim', '--duration=2', '--rate=100'], env);
    expect(await ingest.exit, ingest.stderr()).toBe(0);
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await sql`INSERT INTO positions (broker, account, contract_key, underlying, quantity, multiplier, updated_at)
                VALUES ('tasty', 'REAL-1', 'SPY   261218C00500000', 'SPY', 1, 100, now())`;
      const [{ n: simRows }] = await sql`SELECT count(*)::int AS n FROM greek_snapshots WHERE broker = 'sim'`;
      expect(simRows).toBeGreaterThan(0);

      const ask = runCli('db', ['purge', '--broker=sim'], env);
      expect(await ask.exit).toBe(2);
      expect(ask.stderr().trim().split('\n')).toHaveLength(1);
      expect(ask.stderr()).toMatch(new RegExp(`^riskwire db: purge would delete ${simRows} snapshots, \\d+ positions, 0 trades of broker sim in PostgreSQL at .*: add --yes to confirm`));
      expect((await sql`SELECT count(*)::int AS n FROM greek_snapshots WHERE broker = 'sim'`)[0].n).toBe(simRows);

      const yes = runCli('db', ['purge', '--broker=sim', '--yes'], env);
      expect(await yes.exit, yes.stderr()).toBe(0);
      expect(yes.stdout()).toMatch(new RegExp(`^deleted ${simRows} snapshots, \\d+ positions, 0 trades of broker sim`));
      expect((await sql`SELECT count(*)::int AS n FROM greek_snapshots WHERE broker = 'sim'`)[0].n).toBe(0);
      expect((await sql`SELECT count(*)::int AS n FROM positions WHERE broker = 'sim'`)[0].n).toBe(0);
      expect((await sql`SELECT count(*)::int AS n FROM positions WHERE broker = 'tasty'`)[0].n).toBe(1);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});

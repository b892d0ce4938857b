import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import postgres from 'postgres';
import { createServer, type AddressInfo } from 'node:net';
import { runCli } from '../helpers/cli.js';
import { describePg, freshPostgresUrl } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

describe('npm run ingest: bad input ends with one line and exit code 2', () => {
  it('names an unknown broker and the valid ones', async () => {
    const run = runCli('ingest', ['--broker=nope', '--duration=1']);
    expect(await run.exit).toBe(2);
    expect(run.stderr().trim().split('\n')).toHaveLength(1);
    expect(run.stderr()).toMatch(/unknown broker "nope": use one of .*sim/);
  });

  it('names an unknown flag', async () => {
    const run = runCli('ingest', ['--broker=sim', '--frobnicate=1']);
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(/unknown flag --frobnicate/);
  });

  it('names DATABASE_URL when the database is unreachable, without the password', async () => {
    const run = runCli('ingest', ['--broker=sim', '--duration=1'], { DATABASE_URL: 'postgres://u:hunter2@127.0.0.1:1/x' });
    expect(await run.exit).toBe(2);
    expect(run.stderr()).toMatch(/DATABASE_URL/);
    expect(run.stderr()).not.toMatch(/hunter2/);
    expect(run.stderr().trim().split('\n')).toHaveLength(1);
  });

  it('a broker endpoint that refuses connections is one line naming the fix, exit 2, before anything starts', async () => {
    const run = runCli('ingest', ['--broker=tasty', '--duration=2'], {
      TASTY_API_URL: 'http://127.0.0.1:9', TASTY_CLIENT_SECRET: 'x', TASTY_REFRESH_TOKEN: 'y', PGLITE_DIR: 'memory://', DATABASE_URL: '',
    });
    expect(await run.exit).toBe(2);
    expect(run.stderr().trim().split('\n')).toEqual(['riskwire ingest: cannot reach the Tastytrade API at http://127.0.0.1:9 (ECONNREFUSED): check TASTY_API_URL and the network (npm run sim -- tasty for a simulator)']);
  });

  it('no --broker is an error listing the real brokers (never a silent simulator)', async () => {
    const run = runCli('ingest', ['--duration=1']);
    expect(await run.exit).toBe(2);
    expect(run.stderr().trim().split('\n')).toEqual(['riskwire ingest: --broker is missing: use one of tasty, ibkr, alpaca, a comma list, or all']);
  });

  it('a broker that answers but never starts makes the run fail with its reason, not an empty success', { timeout: 60_000 }, async () => {
    // Accepts TCP and hangs up at once: reachable, but no REST answer.
    const server = createServer((s) => s.destroy());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const run = runCli('ingest', ['--broker=tasty', '--duration=2'], {
        TASTY_API_URL: url, TASTY_CLIENT_SECRET: 'x', TASTY_REFRESH_TOKEN: 'y', PGLITE_DIR: 'memory://', DATABASE_URL: '',
      });
      expect(await run.exit).toBe(1);
      expect(run.stderr()).toMatch(/riskwire ingest: broker tasty never started: /);
    } finally {
      server.close();
    }
  });

  it('prints --help and exits 0', async () => {
    const run = runCli('ingest', ['--help']);
    expect(await run.exit).toBe(0);
    expect(run.stdout()).toMatch(/--broker=ID/);
  });
});

describePg('npm run ingest: SIGTERM under load loses nothing that was accepted', () => {
  let db: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    db = await freshPostgresUrl();
  });
  afterAll(() => db?.drop());

  it('stops the actors, writes every accepted row and exits 0', { timeout: 60_000 }, async () => {
    const run = runCli('ingest', ['--broker=sim', '--rate=2000', '--accounts=2'], { DATABASE_URL: db.url, JOURNAL_DIR: `/tmp/rw-journal-${process.pid}` });
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await waitFor(async () => {
        const [r] = await sql`SELECT count(*)::int AS n FROM greek_snapshots`.catch(() => [{ n: 0 }]);
        return r.n > 2000;
      }, 'rows to arrive', 40_000, 200);
      run.child.kill('SIGTERM');
      expect(await run.exit).toBe(0);
      // The sim numbers each contract's updates 1, 2, 3...: per account and contract the stored
      // sequence must be complete from 1 to the last one sent, so nothing accepted was lost.
      const spans = await sql`SELECT account, contract_key, count(*)::int AS n, min(seq)::int AS lo, max(seq)::int AS hi
                                FROM greek_snapshots GROUP BY 1, 2`;
      expect(spans).toHaveLength(10);
      for (const s of spans) expect([s.lo, s.hi]).toEqual([1, s.n]);
    } finally {
      await sql.end();
      run.child.kill('SIGKILL');
    }
  });
});

import { chmodSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/db/index.js';
import postgres from 'postgres';
import { ensureEmbedded, stopEmbedded } from '../../src/db/embedded/server.js';
import { DEMO_DB_CONNECTIONS } from '../../src/cli/demo.js';
import { runCli } from '../helpers/cli.js';
import { testLogger } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

// No TEST_DATABASE_URL, no DATABASE_URL: the demo's own embedded PostgreSQL (this file runs the
// embedded path in CI too).
describe('npm run demo on a fresh DATA_DIR (embedded PostgreSQL of its own)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-demo-'));
  chmodSync(dir, 0o755); // as root the embedded server runs as user postgres, who must enter it
  afterAll(async () => {
    await stopEmbedded(join(dir, 'demo', 'pg'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('exits 0 and leaves rows from both simulated brokers, with the shared contract under one key, in DATA_DIR/demo only', { timeout: 120_000 }, async () => {
    const run = runCli('demo', ['--duration=10'], { DATA_DIR: dir, DEMO_DATABASE_URL: undefined });
    // While it runs: the demo holds at most DEMO_DB_CONNECTIONS (1) backends; every other one is
    // another ~20 MB of the summed RSS that must stay under 300 MB (D89).
    let exited = false;
    void run.exit.then(() => (exited = true));
    await waitFor(() => exited || run.stdout().includes('database: demo database'), 'the demo to open its database', 60_000, 100);
    let most = 0;
    let samples = 0;
    if (!exited) {
      const sql = postgres((await ensureEmbedded(join(dir, 'demo', 'pg'))).url, { max: 1, onnotice: () => {} });
      try {
        while (!exited) {
          const [r] = await sql`SELECT count(*)::int AS n FROM pg_stat_activity
                                 WHERE backend_type = 'client backend' AND datname = 'riskwire' AND pid <> pg_backend_pid()`;
          most = Math.max(most, r.n);
          samples++;
          await new Promise((r) => setTimeout(r, 100));
        }
      } finally {
        await sql.end({ timeout: 1 });
      }
    }
    expect(samples).toBeGreaterThan(0);
    expect(most).toBeGreaterThan(0);
    expect(most).toBeLessThanOrEqual(DEMO_DB_CONNECTIONS);
    const code = await run.exit;
    expect(code, run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(/ingested: \d+ snapshot rows/);
    expect(run.stdout()).toContain(`database: demo database: embedded PostgreSQL in ${join(dir, 'demo', 'pg')} (kept apart from the real record)`);
    expect(run.stdout()).toMatch(/npm run timeline -- --demo/);
    // The real record's database was never created, its journal never written.
    expect(existsSync(join(dir, 'pg'))).toBe(false);
    expect(existsSync(join(dir, 'journal'))).toBe(false);
    // the demo ends with the risk summary (stock counted: the tasty SPY shares) and the alerts of the run
    expect(run.stdout()).toMatch(/portfolio risk now \(npm run risk -- --demo; rules config\/risk-rules.example.json\)/);
    expect(run.stdout()).toMatch(/^SPY\s+tasty\s+5WT00001\s+100\s/m);
    expect(run.stdout()).toMatch(/^= PORTFOLIO\s/m);
    expect(run.stdout()).toMatch(/alerts during this run \(npm run alerts -- --demo\)/);

    const timeline = runCli('timeline', ['--demo', '--since=10m', '--bucket=10s', '--json'], { DATA_DIR: dir });
    expect(await timeline.exit, timeline.stderr()).toBe(0);
    expect((JSON.parse(timeline.stdout()) as unknown[]).length).toBeGreaterThan(0);

    const storage = await openStorage({ embeddedDir: join(dir, 'demo', 'pg'), log: testLogger });
    try {
      const perBroker = await storage.query<{ broker: string; n: string }>('SELECT broker, count(*) AS n FROM greek_snapshots GROUP BY 1 ORDER BY 1');
      expect(perBroker.map((r) => r.broker)).toEqual(['alpaca', 'ibkr', 'tasty']);
      for (const r of perBroker) expect(Number(r.n)).toBeGreaterThan(0);
      const shared = await storage.query<{ contract_key: string }>(
        `SELECT contract_key FROM greek_snapshots GROUP BY 1 HAVING count(DISTINCT broker) >= 2`,
      );
      expect(shared.some((r) => /^SPY   \d{6}C00500000$/.test(r.contract_key))).toBe(true);
    } finally {
      await storage.close();
    }
  });

  it('--serve keeps both brokers streaming and serves the page until SIGTERM', { timeout: 120_000 }, async () => {
    const run = runCli('demo', ['--duration=10', '--serve', '--port=0'], { PGLITE_DIR: 'memory://', JOURNAL_DIR: join(dir, 'journal-serve'), DATABASE_URL: '', API_TOKEN: undefined });
    try {
      const url = await waitFor(() => run.stdout().match(/the web page: (http:\/\/127\.0\.0\.1:\d+)\//)?.[1], 'the page URL', 90_000);
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<title>Riskwire');
      const status = await (await fetch(`${url}/v1/streaming/status`)).json();
      expect(status.actors.map((a: { actor: string; state: string }) => `${a.actor}:${a.state}`).sort()).toEqual(['alpaca:connected', 'ibkr:connected', 'tasty:connected']);
      run.child.kill('SIGTERM');
      expect(await run.exit, run.stderr()).toBe(0);
      expect(run.stdout()).toMatch(/stopping: closing the page/);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});

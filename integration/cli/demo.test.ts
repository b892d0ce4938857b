import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/db/index.js';
import { runCli } from '../helpers/cli.js';
import { testLogger } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

describe('npm run demo on a fresh embedded database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 and leaves rows from both simulated brokers, with the shared contract under one key', { timeout: 120_000 }, async () => {
    const run = runCli('demo', ['--duration=10'], { PGLITE_DIR: join(dir, 'pglite'), JOURNAL_DIR: join(dir, 'journal'), DATABASE_URL: '' });
    const code = await run.exit;
    expect(code, run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(/ingested: \d+ snapshot rows/);
    expect(run.stdout()).toMatch(/npm run timeline/);

    const storage = await openStorage({ pgliteDir: join(dir, 'pglite'), log: testLogger });
    try {
      const perBroker = await storage.query<{ broker: string; n: string }>('SELECT broker, count(*) AS n FROM greek_snapshots GROUP BY 1 ORDER BY 1');
      expect(perBroker.map((r) => r.broker)).toEqual(['ibkr', 'tasty']);
      for (const r of perBroker) expect(Number(r.n)).toBeGreaterThan(0);
      const shared = await storage.query<{ contract_key: string }>(
        `SELECT contract_key FROM greek_snapshots GROUP BY 1 HAVING count(DISTINCT broker) = 2`,
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
      expect(status.actors.map((a: { actor: string; state: string }) => `${a.actor}:${a.state}`).sort()).toEqual(['ibkr:connected', 'tasty:connected']);
      run.child.kill('SIGTERM');
      expect(await run.exit, run.stderr()).toBe(0);
      expect(run.stdout()).toMatch(/stopping: closing the page/);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/db/index.js';
import { runCli } from '../helpers/cli.js';
import { testLogger } from '../helpers/pg.js';

describe('npm run demo on a fresh embedded database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 and leaves rows from both simulated brokers, with the shared contract under one key', { timeout: 120_000 }, async () => {
    const run = runCli('demo', ['--duration=10'], { PGLITE_DIR: join(dir, 'pglite'), JOURNAL_DIR: join(dir, 'journal'), DATABASE_URL: '' });
    const code = await run.exit;
    expect(code, run.stderr()).toBe(0);
    expect(run.stdout()).toMatch(/ingested: \d+ snapshot rows/);
    expect(run.stdout()).toMatch(/npm run timeline/);
    // the demo ends with the risk summary (stock counted: the tasty SPY shares) and the alerts of the run
    expect(run.stdout()).toMatch(/portfolio risk now \(npm run risk; rules config\/risk-rules.example.json\)/);
    expect(run.stdout()).toMatch(/^SPY\s+tasty\s+5WT00001\s+100\s/m);
    expect(run.stdout()).toMatch(/^= PORTFOLIO\s/m);
    expect(run.stdout()).toMatch(/alerts during this run \(npm run alerts\)/);

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
});

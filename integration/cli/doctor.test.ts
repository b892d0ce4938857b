import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTastySimulator, type TastySimulator } from '../../src/brokers/tasty/sim/index.js';
import { startCpapiSimulator, type CpapiSimulator } from '../../src/brokers/ibkr/sim/cpapi/index.js';
import { runCli } from '../helpers/cli.js';
import { freshPostgresUrl } from '../helpers/pg.js';

describe('npm run doctor against healthy and broken simulators', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-doctor-'));
  let tasty: TastySimulator;
  let ibkr: CpapiSimulator;
  let db: { url: string; drop(): Promise<void> };
  // A real PostgreSQL of its own (PGlite start-up costs seconds per run; its path is tested in integration/storage).
  const base = () => ({ DATABASE_URL: db.url, ...tasty.env, IBKR_GATEWAY_URL: ibkr.url, IBKR_TLS_INSECURE: '1' });
  beforeAll(async () => {
    db = await freshPostgresUrl();
    tasty = await startTastySimulator();
    ibkr = await startCpapiSimulator({});
  });
  afterAll(async () => {
    await tasty?.close();
    await ibkr?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports every part healthy and exits 0', { timeout: 60_000 }, async () => {
    const run = runCli('doctor', ['--broker=tasty,ibkr'], base());
    const code = await run.exit;
    const report = JSON.parse(run.stdout());
    expect(code, run.stdout() + run.stderr()).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.database).toMatchObject({ ok: true, backend: 'postgres' });
    expect(report.brokers.tasty).toMatchObject({ ok: true, connected: true, accounts: 2 });
    expect(report.brokers.ibkr).toMatchObject({ ok: true, connected: true, accounts: 2 });
  });

  it('names the broken part and exits 1 when credentials are rejected', { timeout: 60_000 }, async () => {
    const run = runCli('doctor', ['--broker=tasty', '--timeout=10s'], { ...base(), TASTY_REFRESH_TOKEN: 'wrong-token' });
    expect(await run.exit).toBe(1);
    const report = JSON.parse(run.stdout());
    expect(report.ok).toBe(false);
    expect(report.brokers.tasty.ok).toBe(false);
    expect(report.brokers.tasty.error).toBeTruthy();
    expect(run.stdout()).not.toContain('wrong-token');
    expect(report.database.ok).toBe(true);
  });

  it('reports missing credentials as a configuration problem', { timeout: 30_000 }, async () => {
    const run = runCli('doctor', ['--broker=tasty'], { ...base(), TASTY_CLIENT_SECRET: '', TASTY_REFRESH_TOKEN: '' });
    expect(await run.exit).toBe(1);
    expect(JSON.parse(run.stdout()).brokers.tasty.config).toMatch(/TASTY_CLIENT_SECRET/);
  });

  it('reports an unreachable database', { timeout: 30_000 }, async () => {
    const run = runCli('doctor', ['--broker=sim'], { ...base(), DATABASE_URL: 'postgres://u:pw@127.0.0.1:1/x' });
    expect(await run.exit).toBe(1);
    const report = JSON.parse(run.stdout());
    expect(report.database.ok).toBe(false);
    expect(report.database.error).toMatch(/DATABASE_URL/);
    expect(report.brokers.sim.ok).toBe(true);
  });
});

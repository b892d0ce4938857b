/**
 * The embedded PostgreSQL (src/db/embedded): started on demand by the first opener, shared by
 * the next ones, stopped by `npm run db -- stop`. No TEST_DATABASE_URL and no system server
 * here: this file runs the embedded path in CI as well.
 */
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/db/index.js';
import { embeddedStatus, parsePidFile, stopEmbedded } from '../../src/db/embedded/server.js';
import { resolveTestDatabase } from '../helpers/global-setup.js';
import { testLogger } from '../helpers/pg.js';

describe('embedded PostgreSQL shared by several openers', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'rw-embedded-'));
    await chmod(root, 0o755); // as root the server runs as user postgres, who must enter it
  });
  afterAll(async () => {
    await stopEmbedded(join(root, 'pg')).catch(() => undefined);
    await stopEmbedded(join(root, 'test-server')).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  });

  it('three concurrent first openers: one server, all migrated, rows of each visible to the others; it outlives them', { timeout: 120_000 }, async () => {
    const dir = join(root, 'pg');
    const stores = await Promise.all([1, 2, 3].map(() => openStorage({ embeddedDir: dir, log: testLogger, maxConnections: 2 })));
    const status = await embeddedStatus(dir);
    expect(status.running).not.toBeNull();
    expect(status.version).toBe('18');
    const pidFile = parsePidFile(await readFile(join(dir, 'data', 'postmaster.pid'), 'utf8'))!;
    expect(pidFile.port).toBe(status.running!.port);
    const [migrations] = await stores[0].query<{ n: number }>('SELECT count(*) AS n FROM riskwire_migrations');
    expect(Number(migrations.n)).toBeGreaterThan(0);
    await stores[1].query(`INSERT INTO positions (broker, account, contract_key, underlying, quantity, multiplier, asset_class, updated_at)
                           VALUES ('t', 'A', 'SPY   261218C00500000', 'SPY', 1, 100, 'option', now())`);
    const [seen] = await stores[2].query<{ n: number }>(`SELECT count(*) AS n FROM positions WHERE broker = 't'`);
    expect(Number(seen.n)).toBe(1);
    await Promise.all(stores.map((s) => s.close()));
    expect((await embeddedStatus(dir)).running?.pid).toBe(status.running!.pid);

    expect(await stopEmbedded(dir)).toBe(true);
    expect((await embeddedStatus(dir)).running).toBeNull();
    // Started again on demand, with the data kept.
    const again = await openStorage({ embeddedDir: dir, log: testLogger, maxConnections: 1 });
    const [kept] = await again.query<{ n: number }>(`SELECT count(*) AS n FROM positions WHERE broker = 't'`);
    await again.close();
    expect(Number(kept.n)).toBe(1);
  });

  it('runs small: 4 MB of shared buffers (each process maps the buffers it touches), set at every start', { timeout: 60_000 }, async () => {
    const storage = await openStorage({ embeddedDir: join(root, 'pg'), log: testLogger, maxConnections: 1 });
    try {
      const rows = await storage.query<{ name: string; setting: string; unit: string }>(
        `SELECT name, setting, unit FROM pg_settings WHERE name IN ('shared_buffers', 'wal_buffers') ORDER BY name`);
      expect(rows.map((r) => `${r.name} ${Number(r.setting) * 8} kB`)).toEqual(['shared_buffers 4096 kB', 'wal_buffers 512 kB']);
    } finally {
      await storage.close();
    }
  });

  it('the server takes passwords only: a connection without one is refused', { timeout: 60_000 }, async () => {
    const { running } = await embeddedStatus(join(root, 'pg'));
    const sql = postgres(`postgres://postgres@127.0.0.1:${running!.port}/riskwire`, { max: 1, connect_timeout: 5 });
    await expect(sql`SELECT 1`).rejects.toThrow();
    await sql.end({ timeout: 1 });
  });

  it('tests on a fresh machine: with no TEST_DATABASE_URL and no server at the system URL, the embedded server is started', { timeout: 120_000 }, async () => {
    const db = await resolveTestDatabase({}, root, 'postgres://postgres@127.0.0.1:1/postgres');
    expect(db.embedded).toBe(true);
    expect(db.url).not.toContain(':5432/');
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      const [r] = await sql`SELECT rolcreatedb OR rolsuper AS can FROM pg_roles WHERE rolname = current_user`;
      expect(r.can).toBe(true); // freshPostgresUrl() needs CREATE DATABASE
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
});

import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openStorage } from '../../src/db/index.js';
import { loadMigrations } from '../../src/db/migrate.js';
import { dropPartitionsOlderThan, partitionName, utcDay } from '../../src/db/partitions.js';
import { createPostgresDriver } from '../../src/db/driver-postgres.js';
import type { Storage } from '../../src/db/types.js';
import { describePg, freshPostgresUrl, testLogger } from '../helpers/pg.js';
import { DAY, T0, snapshots } from './fixtures.js';

describePg('migrations and partitions on PostgreSQL', () => {
  let db: { url: string; drop(): Promise<void> };
  let sql: ReturnType<typeof postgres>;
  const open: Storage[] = [];
  const openOne = async () => {
    const s = await openStorage({ databaseUrl: db.url, log: testLogger, maxConnections: 3 });
    open.push(s);
    return s;
  };

  beforeAll(async () => {
    db = await freshPostgresUrl();
    sql = postgres(db.url, { max: 1, onnotice: () => {} });
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.close()));
    await sql?.end();
    await db?.drop();
  });

  it('several openStorage() calls migrating the same empty database at once all succeed', async () => {
    const storages = await Promise.all([openOne(), openOne(), openOne()]);
    expect(storages.map((s) => s.kind)).toEqual(['postgres', 'postgres', 'postgres']);
    const migrations = await sql`SELECT id FROM riskwire_migrations ORDER BY id`;
    expect(migrations.map((m) => m.id)).toEqual((await loadMigrations()).map((m) => m.id));
  });

  it('opening an up-to-date database applies nothing and keeps the data', async () => {
    const [first] = open;
    await first.writeSnapshots(snapshots(3, { account: 'KEEP', eventTs: Date.now() }));
    const again = await openOne();
    const [{ n }] = await again.query<{ n: number }>("SELECT count(*)::int AS n FROM greek_snapshots WHERE account = 'KEEP'");
    expect(n).toBe(3);
    const [{ m }] = await sql`SELECT count(*)::int AS m FROM riskwire_migrations`;
    expect(m).toBe((await loadMigrations()).length);
  });

  it('makes daily partitions from yesterday to seven days ahead at start', async () => {
    const now = Date.now();
    const rows = await sql`
      SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
       WHERE i.inhparent = 'greek_snapshots'::regclass`;
    const names = new Set(rows.map((r) => r.name as string));
    for (let d = -1; d <= 7; d++) expect(names.has(partitionName(now + d * DAY))).toBe(true);
  });

  it('partition bounds are whole UTC days', async () => {
    const [row] = await sql`
      SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_class c WHERE c.relname = ${partitionName(Date.now())}`;
    const day = utcDay(Date.now());
    // Rendered in the session time zone; compare the instants, not the text.
    const [from, to] = [...(row.bound as string).matchAll(/'([^']+)'/g)].map((m) => Date.parse(m[1].replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00')));
    expect(from).toBe(Date.parse(`${day}T00:00:00Z`));
    expect(to - from).toBe(DAY);
  });

  it('concurrent writers creating the same missing partitions on demand all land their rows', async () => {
    const [a, b, c] = open;
    const day = T0 + 900 * DAY;
    const results = await Promise.all([
      a.writeSnapshots(snapshots(20, { account: 'RACE1', eventTs: day })),
      b.writeSnapshots(snapshots(20, { account: 'RACE2', eventTs: day + 1 })),
      c.writeSnapshots(snapshots(20, { account: 'RACE3', eventTs: day + DAY })),
      a.ensurePartitions(day),
    ]);
    expect(results.slice(0, 3)).toEqual([{ inserted: 20, duplicates: 0 }, { inserted: 20, duplicates: 0 }, { inserted: 20, duplicates: 0 }]);
  });

  it('retention drops whole days before the cutoff and keeps the rest', async () => {
    const [a] = open;
    const old = T0 - 10 * DAY;
    await a.writeSnapshots(snapshots(5, { account: 'RET', eventTs: old }));
    await a.writeSnapshots(snapshots(5, { account: 'RET', eventTs: old + 2 * DAY }));
    const driver = createPostgresDriver(db.url, { max: 1 });
    try {
      const dropped = await dropPartitionsOlderThan(driver, old + 2 * DAY);
      expect(dropped).toContain(partitionName(old));
      expect(dropped).not.toContain(partitionName(old + 2 * DAY));
    } finally {
      await driver.close();
    }
    const rows = await a.querySnapshots({ account: 'RET' });
    expect(new Set(rows.map((r) => utcDay(r.eventTs)))).toEqual(new Set([utcDay(old + 2 * DAY)]));
  });
});

import { afterAll, beforeAll, expect, it } from 'vitest';
import { StorageError } from '../../src/db/errors.js';
import { partitionName } from '../../src/db/partitions.js';
import { describeBackends, openTestStorage, type TestStorage } from '../helpers/pg.js';
import { DAY, T0, snapshot, snapshots } from './fixtures.js';

describeBackends('greek_snapshots writes', (backend) => {
  let t: TestStorage;
  beforeAll(async () => {
    // On PostgreSQL these tests run the binary COPY path (the default, D94; set here whatever the runner has); PGlite has no COPY here.
    const saved = process.env.SNAPSHOT_COPY;
    process.env.SNAPSHOT_COPY = '1';
    try {
      t = await openTestStorage(backend);
    } finally {
      if (saved === undefined) delete process.env.SNAPSHOT_COPY;
      else process.env.SNAPSHOT_COPY = saved;
    }
    // Partitions made at start are relative to "now"; T0 lies in the past, so make its days explicitly.
    await t.storage.ensurePartitions(T0);
  });
  afterAll(() => t?.close());

  it('stores a batch written twice once, and reports the second write as all duplicates', async () => {
    const rows = snapshots(50, { account: 'DUP' });
    expect(await t.storage.writeSnapshots(rows)).toEqual({ inserted: 50, duplicates: 0 });
    expect(await t.storage.writeSnapshots(rows)).toEqual({ inserted: 0, duplicates: 50 });
    const [{ n }] = await t.storage.query<{ n: number }>("SELECT count(*)::int AS n FROM greek_snapshots WHERE account = 'DUP'");
    expect(n).toBe(50);
  });

  it('counts a partly new batch as inserted plus duplicates', async () => {
    const rows = snapshots(10, { account: 'PART' });
    await t.storage.writeSnapshots(rows.slice(0, 4));
    expect(await t.storage.writeSnapshots(rows)).toEqual({ inserted: 6, duplicates: 4 });
  });

  it('keeps two updates at the same event time with different broker sequence numbers', async () => {
    const a = snapshot({ account: 'SEQ', seq: 1 });
    const b = snapshot({ account: 'SEQ', seq: 2 });
    expect(await t.storage.writeSnapshots([a, b])).toEqual({ inserted: 2, duplicates: 0 });
  });

  it('lands a batch with rows on three days, one far outside the pre-made partitions', async () => {
    const farAway = T0 + 400 * DAY;
    const rows = [
      snapshot({ account: 'DAYS', eventTs: T0 }),
      snapshot({ account: 'DAYS', eventTs: T0 + DAY }),
      snapshot({ account: 'DAYS', eventTs: farAway }),
    ];
    expect(await t.storage.writeSnapshots(rows)).toEqual({ inserted: 3, duplicates: 0 });
    const stored = await t.storage.querySnapshots({ account: 'DAYS' });
    expect(stored.map((r) => r.eventTs).sort()).toEqual([T0, T0 + DAY, farAway]);
    const parts = await t.storage.query<{ name: string }>(
      "SELECT tableoid::regclass::text AS name FROM greek_snapshots WHERE account = 'DAYS' ORDER BY event_ts",
    );
    expect(parts.map((p) => p.name)).toEqual([partitionName(T0), partitionName(T0 + DAY), partitionName(farAway)]);
  });

  it('stores NaN and Infinity in numeric fields as null', async () => {
    const row = snapshot({
      account: 'NAN', bid: NaN, ask: Infinity, mark: -Infinity, underlyingPrice: NaN,
      iv: NaN, delta: Infinity, gamma: null, theta: -Infinity, vega: NaN, rho: 0.01,
    });
    await t.storage.writeSnapshots([row]);
    const [r] = await t.storage.querySnapshots({ account: 'NAN' });
    expect(r).toMatchObject({ bid: null, ask: null, mark: null, underlyingPrice: null, iv: null, delta: null, gamma: null, theta: null, vega: null, rho: 0.01 });
    // And never the PostgreSQL 'NaN' value either.
    const [{ n }] = await t.storage.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM greek_snapshots WHERE account = 'NAN' AND (iv = 'NaN' OR vega = 'NaN' OR bid = 'NaN')",
    );
    expect(n).toBe(0);
  });

  it('round-trips times (epoch ms) and values exactly, and sets persisted_at in the database', async () => {
    const row = snapshot({ account: 'RT', eventTs: T0 + 123, receivedAt: T0 + 456, seq: 7, quantity: -3, multiplier: 10 });
    await t.storage.writeSnapshots([row]);
    const [r] = await t.storage.querySnapshots({ account: 'RT' });
    expect(r).toMatchObject(row);
    const before = Date.now();
    expect(r.persistedAt).toBeGreaterThan(before - 60_000);
    expect(r.persistedAt).toBeLessThanOrEqual(before + 1_000);
  });

  it('round-trips fractional quantities, large multipliers and large sequence numbers exactly (binary COPY on PostgreSQL)', async () => {
    const row = snapshot({ account: 'FRAC', eventTs: T0 + 250, receivedAt: T0 + 1500, seq: 2 ** 33, quantity: 1.5, multiplier: 123456.25 });
    const neg = snapshot({ account: 'FRAC', contractKey: 'X2', quantity: -0.001, multiplier: 1e-7 });
    expect(await t.storage.writeSnapshots([row, neg])).toEqual({ inserted: 2, duplicates: 0 });
    const got = await t.storage.querySnapshots({ account: 'FRAC' });
    expect(got.find((r) => r.contractKey === row.contractKey)).toMatchObject(row);
    expect(got.find((r) => r.contractKey === 'X2')).toMatchObject({ quantity: -0.001, multiplier: 1e-7 });
  });

  it('lands many batches written at once on the shared pool, each row once (COPY connections reused back to back)', async () => {
    // More batches than the pool has connections, with reads in between: postgres.js then
    // pipelines statements onto busy connections, which must never put one behind a COPY.
    const batches = Array.from({ length: 60 }, (_, b) => snapshots(40, { account: `MANY${b % 3}`, seq: b }));
    const results = await Promise.all(batches.map(async (rows) => {
      const [w] = await Promise.all([t.storage.writeSnapshots(rows), t.storage.query('SELECT 1 AS one')]);
      return w;
    }));
    expect(results.every((r) => r.inserted === 40 && r.duplicates === 0)).toBe(true);
    const [{ n }] = await t.storage.query<{ n: number }>("SELECT count(*)::int AS n FROM greek_snapshots WHERE account LIKE 'MANY%'");
    expect(n).toBe(60 * 40);
  });

  it('rejects a row without a finite quantity as a permanent StorageError and writes nothing', async () => {
    const rows = [snapshot({ account: 'BAD', contractKey: 'X1' }), snapshot({ account: 'BAD', quantity: NaN })];
    const err = await t.storage.writeSnapshots(rows).catch((e) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(/quantity/);
    expect(await t.storage.querySnapshots({ account: 'BAD' })).toEqual([]);
  });
});

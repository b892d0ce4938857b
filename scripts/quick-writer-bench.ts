/**
 * Quick writer benchmark: rows/s of Storage.writeSnapshots on PostgreSQL (TEST_DATABASE_URL) into a
 * fresh, throwaway database, for 50-row batches one at a time, 50-row batches with 8 in flight,
 * and 5000-row batches. Optionally the same on embedded PGlite (--pglite).
 *
 *   npx tsx scripts/quick-writer-bench.ts [--rows=200000] [--pglite]
 */
import pino from 'pino';
import type { GreekSnapshot } from '../src/core/types.js';
import { openStorage } from '../src/db/index.js';
import type { Storage } from '../src/db/types.js';
import { freshPostgresUrl } from '../integration/helpers/pg.js';

const args = new Map<string, string | undefined>(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v];
  }),
);
if (args.has('help')) {
  console.log('usage: npx tsx scripts/quick-writer-bench.ts [--rows=200000] [--pglite]   (uses TEST_DATABASE_URL)');
  process.exit(0);
}
const TOTAL = Number(args.get('rows') ?? 200_000);
const log = pino({ level: 'warn' });

/** Unique rows: 500 contracts x consecutive milliseconds, all on today's (pre-made) partition. */
function makeRows(n: number, account: string, start: number): GreekSnapshot[] {
  return Array.from({ length: n }, (_, i) => ({
    broker: 'bench', account, contractKey: `SPY   251219C${String(400000 + (i % 500) * 1000).padStart(8, '0')}`, underlying: 'SPY',
    eventTs: start + Math.floor(i / 500), seq: 0, receivedAt: start + Math.floor(i / 500) + 3, quantity: -1, multiplier: 100,
    bid: 1.1, ask: 1.2, mark: 1.15, underlyingPrice: 600, iv: 0.2, delta: 0.4, gamma: 0.01, theta: -0.2, vega: 0.3, rho: 0.05,
  }));
}

async function run(storage: Storage, name: string, batch: number, inFlight: number): Promise<{ name: string; rows: number; seconds: number }> {
  const rows = makeRows(TOTAL, name, Date.now() - 3_600_000);
  const batches: GreekSnapshot[][] = [];
  for (let i = 0; i < rows.length; i += batch) batches.push(rows.slice(i, i + batch));
  let next = 0;
  let inserted = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < batches.length) {
        const result = await storage.writeSnapshots(batches[next++]);
        inserted += result.inserted;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  if (inserted !== rows.length) throw new Error(`${name}: inserted ${inserted} of ${rows.length}`);
  return { name, rows: rows.length, seconds };
}

async function benchOne(label: string, storage: Storage) {
  const results = [];
  results.push(await run(storage, '50-row batches, 1 in flight', 50, 1));
  results.push(await run(storage, '50-row batches, 8 in flight', 50, 8));
  results.push(await run(storage, '5000-row batches, 1 in flight', 5000, 1));
  console.log(`\n${label}`);
  console.table(results.map((r) => ({ 'write path': r.name, rows: r.rows, seconds: r.seconds.toFixed(2), 'rows/s': Math.round(r.rows / r.seconds) })));
}

const db = await freshPostgresUrl();
try {
  const storage = await openStorage({ databaseUrl: db.url, log, maxConnections: 10 });
  try {
    await benchOne(`PostgreSQL (${(await storage.query<{ v: string }>("SELECT current_setting('server_version') AS v"))[0].v}), writeSnapshots = one INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING per batch`, storage);
  } finally {
    await storage.close();
  }
} finally {
  await db.drop();
}
if (args.has('pglite')) {
  const storage = await openStorage({ pgliteDir: 'memory://', log });
  try {
    await benchOne('PGlite (memory://)', storage);
  } finally {
    await storage.close();
  }
}

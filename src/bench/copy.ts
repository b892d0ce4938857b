import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { COPY_SQL, syntheticRows, toCsv } from './rows.js';

/** The raw limit: COPY of synthetic snapshot rows into greek_snapshots (same columns and key), 5000-row batches. */
export async function rawCopy(url: string, total: number): Promise<{ rows: number; seconds: number; rowsPerSec: number }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await sql`TRUNCATE greek_snapshots`;
    const rows = syntheticRows(total, 'copy');
    const chunks: string[] = [];
    for (let i = 0; i < rows.length; i += 5000) chunks.push(toCsv(rows.slice(i, i + 5000)));
    const t0 = performance.now();
    for (const chunk of chunks) {
      const writable = await sql.unsafe(COPY_SQL).writable();
      await pipeline(Readable.from([chunk]), writable);
    }
    const seconds = (performance.now() - t0) / 1000;
    const [r] = await sql`SELECT count(*)::int AS n FROM greek_snapshots`;
    await sql`TRUNCATE greek_snapshots`;
    return { rows: r.n, seconds, rowsPerSec: r.n / seconds };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

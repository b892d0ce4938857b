import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { COPY_SQL, syntheticRows, toCsv } from './rows.js';

/**
 * The raw limit: COPY of synthetic snapshot rows into greek_snapshots (same columns and key),
 * 5000-row batches. One warm-up pass, then the median of three measured passes: a single
 * pass swings by a third on this machine (checkpoints, page cache), and the ratios divide by it.
 */
export async function rawCopy(url: string, total: number): Promise<{ rows: number; seconds: number; rowsPerSec: number; passes: number[] }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  try {
    const rows = syntheticRows(total, 'copy');
    const chunks: string[] = [];
    for (let i = 0; i < rows.length; i += 5000) chunks.push(toCsv(rows.slice(i, i + 5000)));
    const pass = async (parts: string[]) => {
      await sql`TRUNCATE greek_snapshots`;
      const t0 = performance.now();
      for (const chunk of parts) {
        const writable = await sql.unsafe(COPY_SQL).writable();
        await pipeline(Readable.from([chunk]), writable);
      }
      const seconds = (performance.now() - t0) / 1000;
      const [r] = await sql`SELECT count(*)::int AS n FROM greek_snapshots`;
      return { rows: r.n as number, seconds, rowsPerSec: r.n / seconds };
    };
    await pass(chunks.slice(0, Math.max(1, chunks.length >> 2)));
    const runs = [await pass(chunks), await pass(chunks), await pass(chunks)].sort((a, b) => a.rowsPerSec - b.rowsPerSec);
    await sql`TRUNCATE greek_snapshots`;
    return { ...runs[1], passes: runs.map((r) => Math.round(r.rowsPerSec)) };
  } finally {
    await sql.end({ timeout: 5 });
  }
}

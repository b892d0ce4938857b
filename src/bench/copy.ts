import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import postgres from 'postgres';
import { COPY_SQL, syntheticRows, toCsv } from './rows.js';

export interface CopyPass {
  rows: number;
  seconds: number;
  rowsPerSec: number;
}

/**
 * The raw limit: COPY of synthetic snapshot rows into greek_snapshots (same columns and key),
 * 5000-row batches. `open()` renders the CSV once and runs one warm-up pass (a quarter of the
 * rows); each `pass()` then truncates and copies all of them. The bench runs a pass right before
 * each pipeline pass, so each ratio divides two figures measured back to back.
 */
export async function openRawCopy(url: string, total: number): Promise<{ pass(): Promise<CopyPass>; close(): Promise<void> }> {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  // CSV chunk by chunk: 100k row objects at once would grow the heap by hundreds of MB, and the
  // process RSS (the pipeline's figure too) would keep that high-water mark for the whole run.
  const start = Date.now() - 3_600_000;
  const chunks: string[] = [];
  for (let i = 0; i < total; i += 5000) {
    chunks.push(toCsv(syntheticRows(Math.min(5000, total - i), 'copy', start, i)));
  }
  const run = async (parts: string[]): Promise<CopyPass> => {
    await sql`TRUNCATE greek_snapshots`;
    const t0 = performance.now();
    for (const chunk of parts) {
      const writable = await sql.unsafe(COPY_SQL).writable();
      await pipeline(Readable.from([chunk]), writable);
    }
    const seconds = (performance.now() - t0) / 1000;
    const [r] = await sql`SELECT count(*)::int AS n FROM greek_snapshots`;
    await sql`TRUNCATE greek_snapshots`;
    return { rows: r.n as number, seconds, rowsPerSec: r.n / seconds };
  };
  try {
    await run(chunks.slice(0, Math.max(1, chunks.length >> 2)));
  } catch (err) {
    await sql.end({ timeout: 5 });
    throw err;
  }
  return { pass: () => run(chunks), close: () => sql.end({ timeout: 5 }) };
}

/** One warm-up, then the median of three passes (kept for callers that want the raw limit alone). */
export async function rawCopy(url: string, total: number): Promise<{ rows: number; seconds: number; rowsPerSec: number; passes: number[] }> {
  const copy = await openRawCopy(url, total);
  try {
    const runs = [await copy.pass(), await copy.pass(), await copy.pass()].sort((a, b) => a.rowsPerSec - b.rowsPerSec);
    return { ...runs[1], passes: runs.map((r) => Math.round(r.rowsPerSec)) };
  } finally {
    await copy.close();
  }
}

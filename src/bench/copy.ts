import { createPostgresDriver } from '../db/driver-postgres.js';
import { SNAPSHOT_COPY_SQL, encodeSnapshotsBinary } from '../db/snapshotCopy.js';
import { COPY_SQL, syntheticRows, toCsv } from './rows.js';

export interface CopyPass {
  rows: number;
  seconds: number;
  rowsPerSec: number;
}

/**
 * The raw limit: COPY of synthetic snapshot rows into greek_snapshots (same columns and key),
 * 5000-row batches, through the same driver call (`copyIn`: one COPY, TCP_NODELAY) and the same
 * binary encoding (snapshotCopy.ts) as the pipeline's writer, so both sides ask the same work of
 * the server (D85). The data is rendered once by `open` (not timed), 5000 rows at a time into
 * compact Buffers (~25 MB for 100k rows; no row objects or strings are kept), then one warm-up
 * pass (a quarter of the rows); each `pass()` truncates and copies all of them. The bench runs a
 * pass right before each pipeline pass, so each ratio divides two figures measured back to back.
 * `format: 'csv'` copies the same rows as CSV text instead (the method before D85).
 */
export async function openRawCopy(url: string, total: number, format: 'binary' | 'csv' = 'binary'): Promise<{ pass(): Promise<CopyPass>; close(): Promise<void> }> {
  const driver = createPostgresDriver(url, { max: 1 });
  const start = Date.now() - 3_600_000;
  const chunks: Buffer[] = [];
  for (let i = 0; i < total; i += 5000) {
    const rows = syntheticRows(Math.min(5000, total - i), 'copy', start, i);
    chunks.push(format === 'binary' ? encodeSnapshotsBinary(rows) : Buffer.from(toCsv(rows)));
  }
  const copySql = format === 'binary' ? SNAPSHOT_COPY_SQL : COPY_SQL;
  const run = async (parts: Buffer[]): Promise<CopyPass> => {
    await driver.exec('TRUNCATE greek_snapshots');
    const t0 = performance.now();
    for (const chunk of parts) await driver.copyIn!(copySql, chunk);
    const seconds = (performance.now() - t0) / 1000;
    const [r] = await driver.query<{ n: number }>('SELECT count(*)::int AS n FROM greek_snapshots');
    await driver.exec('TRUNCATE greek_snapshots');
    return { rows: r.n, seconds, rowsPerSec: r.n / seconds };
  };
  try {
    await run(chunks.slice(0, Math.max(1, chunks.length >> 2)));
  } catch (err) {
    await driver.close();
    throw err;
  }
  return { pass: () => run(chunks), close: () => driver.close() };
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

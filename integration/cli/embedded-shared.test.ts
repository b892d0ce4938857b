/**
 * The embedded default shared by several processes at once (issue 16): two `ingest` writers and
 * a `serve` on one fresh DATA_DIR, no DATABASE_URL. Nothing lost, nothing doubled, and the
 * timeline answers while they write.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/db/index.js';
import { stopEmbedded } from '../../src/db/embedded/server.js';
import { runCli } from '../helpers/cli.js';
import { testLogger } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';

const rowsWritten = (stderr: string) => Number(/ingest done: \d+ events in, (\d+) rows written/.exec(stderr)?.[1] ?? NaN);

describe('two ingest processes and a serve on the embedded default at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rw-shared-'));
  chmodSync(dir, 0o755); // as root the embedded server runs as user postgres, who must enter it
  afterAll(async () => {
    await stopEmbedded(join(dir, 'pg'));
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores exactly the rows each reported written, no duplicate keys, timeline answers meanwhile', { timeout: 120_000 }, async () => {
    const env = { DATA_DIR: dir, LOG_LEVEL: 'warn' };
    // All three start together on a folder with no database yet: one of them initialises it.
    const a = runCli('ingest', ['--broker=sim', '--duration=8', '--rate=200', '--seed=1'], env);
    const b = runCli('ingest', ['--broker=sim', '--duration=8', '--rate=200', '--seed=2'], env);
    const serve = runCli('serve', ['--port=0'], env);
    try {
      const port = await waitFor(() => Number(/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(serve.stdout())?.[1]) || undefined, 'serve to listen', 60_000, 100);
      // While both write: the API and the timeline command read the same database.
      await waitFor(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/v1/greeks/snapshots?limit=1`);
        return res.ok && ((await res.json()) as { count: number }).count > 0;
      }, 'rows visible to serve', 60_000, 200);
      const timeline = runCli('timeline', ['--since=5m', '--bucket=10s', '--json'], env);
      expect(await timeline.exit, timeline.stderr()).toBe(0);
      expect((JSON.parse(timeline.stdout()) as unknown[]).length).toBeGreaterThan(0);
      const api = await fetch(`http://127.0.0.1:${port}/v1/risk/timeline?since=5m&bucket=10s`);
      expect(api.status).toBe(200);

      expect(await a.exit, a.stderr()).toBe(0);
      expect(await b.exit, b.stderr()).toBe(0);
    } finally {
      serve.child.kill('SIGTERM');
    }
    expect(await serve.exit).toBe(0);

    const reported = rowsWritten(a.stderr()) + rowsWritten(b.stderr());
    expect(rowsWritten(a.stderr())).toBeGreaterThan(0);
    expect(rowsWritten(b.stderr())).toBeGreaterThan(0);
    const storage = await openStorage({ embeddedDir: join(dir, 'pg'), log: testLogger, maxConnections: 1 });
    try {
      const [stored] = await storage.query<{ n: number }>('SELECT count(*) AS n FROM greek_snapshots');
      expect(Number(stored.n)).toBe(reported);
      const [dups] = await storage.query<{ n: number }>(
        'SELECT count(*) AS n FROM (SELECT 1 FROM greek_snapshots GROUP BY broker, account, contract_key, event_ts, seq HAVING count(*) > 1) d',
      );
      expect(Number(dups.n)).toBe(0);
    } finally {
      await storage.close();
    }
  });
});

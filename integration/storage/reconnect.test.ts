import postgres from 'postgres';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { StorageError } from '../../src/db/errors.js';
import type { GreekSnapshot } from '../../src/core/types.js';
import type { WriteResult } from '../../src/db/types.js';
import { describePg, openTestStorage, type TestStorage } from '../helpers/pg.js';
import { snapshots } from './fixtures.js';

/** Polls until cond() is truthy; generous deadline for a loaded machine. */
async function waitFor<T>(cond: () => Promise<T | undefined | false>, what: string, deadlineMs = 15_000): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describePg('PostgreSQL going away mid-run', () => {
  let t: TestStorage;
  let killer: ReturnType<typeof postgres>;
  const dbName = () => new URL(t.url!).pathname.slice(1);

  /** Terminates the storage's connections (application_name 'riskwire'), not the test's own helpers. */
  const terminateWriters = async () => {
    const rows = await killer`
      SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity
       WHERE datname = ${dbName()} AND application_name = 'riskwire' AND pid <> pg_backend_pid()`;
    return rows.length;
  };
  const writersWaitingOnLock = async () => {
    const rows = await killer`
      SELECT pid FROM pg_stat_activity
       WHERE datname = ${dbName()} AND application_name = 'riskwire' AND wait_event_type = 'Lock'`;
    return rows.map((r) => r.pid as number);
  };

  /** What a caller (the core processor) does: retry the same batch when the error is retryable. */
  const writeWithRetry = async (rows: GreekSnapshot[]): Promise<{ result: WriteResult; errors: StorageError[] }> => {
    const errors: StorageError[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return { result: await t.storage.writeSnapshots(rows), errors };
      } catch (err) {
        if (!(err instanceof StorageError) || !err.retryable) throw err;
        errors.push(err);
      }
    }
    throw new Error(`still failing after retries: ${errors.map((e) => e.message).join('; ')}`);
  };

  beforeAll(async () => {
    t = await openTestStorage('postgres');
    killer = postgres(new URL(t.url!).toString(), { max: 1, onnotice: () => {} });
    await killer`SELECT 1`;
  });
  afterAll(async () => {
    await killer?.end();
    await t?.close();
  });

  it('a statement in flight when the server kills the connection fails with a retryable StorageError', async () => {
    const inFlight = t.storage.query('SELECT pg_sleep(60)').then(
      () => undefined,
      (e: unknown) => e,
    );
    await waitFor(async () => {
      const rows = await killer`SELECT 1 FROM pg_stat_activity WHERE datname = ${dbName()} AND query LIKE 'SELECT pg_sleep%' AND state = 'active'`;
      return rows.length > 0;
    }, 'the sleeping query to be active');
    expect(await terminateWriters()).toBeGreaterThan(0);
    const err = await inFlight;
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).retryable).toBe(true);
    expect((err as StorageError).code).toMatch(/^(57P01|CONNECTION_CLOSED|CONNECTION_ENDED|ECONNRESET)$/);
  });

  it('a batch whose connection is killed mid-insert is stored exactly once after the retry', async () => {
    const batch = snapshots(50, { account: 'MIDFLIGHT', eventTs: Date.now() });
    expect(await t.storage.writeSnapshots(batch.slice(0, 20))).toEqual({ inserted: 20, duplicates: 0 });
    // Hold the table so the next insert is provably in flight (waiting on the lock) when we kill it.
    const locker = postgres(t.url!, { max: 1, onnotice: () => {} });
    const held = await locker.reserve();
    try {
      await held`BEGIN`;
      await held`LOCK TABLE greek_snapshots IN ACCESS EXCLUSIVE MODE`;
      const writing = writeWithRetry(batch);
      const [victim] = await waitFor(async () => {
        const pids = await writersWaitingOnLock();
        return pids.length > 0 && pids;
      }, 'the insert to wait on the lock');
      expect(await terminateWriters()).toBeGreaterThan(0);
      // The retry (storage's own, or the caller's on a retryable StorageError) queues behind the lock again.
      await waitFor(async () => {
        const pids = await writersWaitingOnLock();
        return pids.some((p) => p !== victim);
      }, 'the retried insert to wait on the lock');
      await held`ROLLBACK`;
      const { result, errors } = await writing;
      expect(errors.every((e) => e.retryable)).toBe(true);
      expect(result).toEqual({ inserted: 30, duplicates: 20 });
    } finally {
      held.release();
      await locker.end();
    }
    const [{ n, d }] = await killer`
      SELECT count(*)::int AS n, count(DISTINCT contract_key)::int AS d FROM greek_snapshots WHERE account = 'MIDFLIGHT'`;
    expect([n, d]).toEqual([50, 50]);
  });

  it('postgres.js reconnects on the next statement: a write right after the kill lands without the caller retrying', async () => {
    await t.storage.query('SELECT 1');
    await terminateWriters();
    // Wait until the server has really dropped them, so the client is left holding dead sockets.
    await waitFor(async () => {
      const rows = await killer`SELECT 1 FROM pg_stat_activity WHERE datname = ${dbName()} AND application_name = 'riskwire'`;
      return rows.length === 0;
    }, 'the backends to exit');
    // postgres.js only learns the socket is dead when it uses it (ECONNRESET); storage retries an
    // idempotent write once on a fresh connection, which postgres.js opens by itself.
    const batch = snapshots(10, { account: 'AUTO', eventTs: Date.now() });
    expect(await t.storage.writeSnapshots(batch)).toEqual({ inserted: 10, duplicates: 0 });
    expect(await t.storage.querySnapshots({ account: 'AUTO' })).toHaveLength(10);
  });
});

import { readFileSync } from 'node:fs';
import { getPriority } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDbNice } from '../../src/api/thread/dbNice.js';
import type { Storage } from '../../src/db/types.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';

const niceOf = (pid: number) => Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[16]);
const uidOf = (pid: number) => Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);

/** API_DB_NICE (D97): the API pool's backends at a lower priority, only when provably ours. */
describePg('API_DB_NICE on a PostgreSQL server on this host', () => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage('postgres');
  });
  afterAll(() => t?.close());

  it('renices every pool connection\'s backend by the given amount (when this OS user may), once each', async () => {
    const before = new Map<number, number>();
    for (let i = 0; i < 3; i++) {
      const [{ pid }] = await t.storage.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      before.set(pid, niceOf(pid));
    }
    const nicer = startDbNice({ storage: t.storage, url: t.url!, nice: 5, connections: 2, log: testLogger, everyMs: 3_600_000 });
    try {
      await nicer.tick();
      const some = [...nicer.reniced][0];
      const permitted = process.getuid?.() === 0 || (some !== undefined && uidOf(some) === process.getuid?.());
      if (!permitted) return expect(nicer.reniced.size).toBe(0); // another OS user without privilege: left alone
      expect(nicer.reniced.size).toBe(2); // both connections of the probe, concurrently
      const base = new Map([...nicer.reniced].map((pid) => [pid, niceOf(pid)]));
      for (const [pid, n] of base) expect(n).toBe(Math.min(19, (before.get(pid) ?? 0) + 5));
      await nicer.tick(); // the same backends again: not reniced twice
      for (const [pid, n] of base) expect(niceOf(pid)).toBe(n);
    } finally {
      nicer.stop();
    }
  });
});

it('never renices a pid that is not a postgres backend on our connection, nor asks a remote server', async () => {
  const mine = getPriority(process.pid);
  let asked = 0;
  const liar = { query: async () => (asked++, [{ pid: process.pid, port: 1 }]) } as unknown as Storage; // our own pid: a node process
  const local = startDbNice({ storage: liar, url: 'postgres://x@127.0.0.1:5432/db', nice: 5, connections: 2, log: testLogger, everyMs: 3_600_000 });
  await local.tick();
  local.stop();
  expect(local.reniced.size).toBe(0);
  expect(getPriority(process.pid)).toBe(mine);
  expect(asked).toBe(2);
  const remote = startDbNice({ storage: liar, url: 'postgres://x@db.example:5432/db', nice: 5, connections: 2, log: testLogger, everyMs: 3_600_000 });
  await remote.tick();
  remote.stop();
  expect(asked).toBe(2); // not even asked
});

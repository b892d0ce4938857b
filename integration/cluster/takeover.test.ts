/**
 * ingest --cluster: three members share three sim accounts through leases (src/app/cluster.ts).
 * Lease time runs on a FakeClock (heartbeats called by hand); the streams are real sim actors
 * in worker threads writing into PostgreSQL. One member dies (streams stop, leases left to
 * expire): its accounts are taken over by the others once the leases expire, each account is
 * streamed by exactly one member at every step, and every row a member accepted is stored.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ClusterMember, clusterStatus } from '../../src/app/cluster.js';
import { clusterUnits } from '../../src/cli/ingest.js';
import { FakeClock } from '../../tests/helpers/fake-clock.js';
import { describePg, openTestStorage, testLogger, type TestStorage } from '../helpers/pg.js';
import { waitFor } from '../helpers/wait.js';
import { threeMembers } from './members.js';

describePg('ingest --cluster: lease takeover with three members', () => {
  let t: TestStorage;
  beforeAll(async () => {
    t = await openTestStorage('postgres');
  });
  afterAll(() => t?.close());

  it('each account streamed by exactly one member; a dead member\'s accounts taken over within the lease; 0 rows lost', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 5, 15, 0, 0));
    const units = clusterUnits([{ id: 'sim', broker: 'sim', flags: { rate: '40', accounts: '3' } }]);
    expect([...units]).toEqual(['sim:SIM-1', 'sim:SIM-2', 'sim:SIM-3']);
    const { pipelines, members, running, exactlyOnce, beat } = threeMembers(t.storage, clock, units);
    const [a, b, c] = members;

    for (const m of members) await m.join();
    await beat(0, members);
    expect(exactlyOnce(members)).toEqual([...units]);
    expect(members.map((m) => m.owned().length)).toEqual([1, 1, 1]); // fair share
    const rowsOf = async (account: string) => Number((await t.storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM greek_snapshots WHERE account = $1`, [account]))[0].n);
    await waitFor(async () => (await Promise.all(units.map((u) => rowsOf(u.slice(4))))).every((n) => n > 0), 'rows from every account');

    // b dies: its streams stop, its leases and member row stay until they expire
    const orphaned = b.owned();
    const diedAt = clock.now();
    await b.crash();
    const alive = [a, c];
    await beat(5_000, alive);
    await beat(5_000, alive); // 10 s: leases still valid, nobody takes them
    expect(exactlyOnce(alive)).toHaveLength(2);
    let takenAt = -1;
    for (let i = 0; i < 6 && takenAt < 0; i++) {
      await beat(5_000, alive);
      if (exactlyOnce(alive).length === 3) takenAt = clock.now();
    }
    expect(takenAt - diedAt).toBeGreaterThan(0);
    expect(takenAt - diedAt).toBeLessThanOrEqual(30_000);
    expect(a.owned().length + c.owned().length).toBe(3);
    const takeovers = [...a.takeovers, ...c.takeovers];
    expect(takeovers.map((x) => x.unit).sort()).toEqual(orphaned);
    expect(takeovers.every((x) => x.from === 'b' && x.gapMs !== null && x.gapMs >= 15_000 && x.gapMs <= 30_000)).toBe(true);

    // the orphaned accounts are streamed again (by their new owner)
    const before = await Promise.all(orphaned.map((u) => rowsOf(u.slice(4))));
    await waitFor(async () => (await Promise.all(orphaned.map((u) => rowsOf(u.slice(4))))).every((n, i) => n > before[i]), 'rows from the taken-over accounts');

    const status = await clusterStatus(t.storage, clock.now());
    expect(status.leases.filter((l) => l.live).map((l) => l.owner).sort()).toEqual([...a.owned().map(() => 'a'), ...c.owned().map(() => 'c')].sort());
    expect(status.members.find((m) => m.member === 'b')?.live).toBe(false);
    // the /v1/streaming/status `cluster` document (serve --cluster), from the last heartbeat
    const view = a.view();
    expect(view.streaming).toEqual(a.owned());
    expect(view.leases.filter((l) => l.owner === 'a' && l.live).map((l) => l.unit).sort()).toEqual(a.owned());

    // clean stop of the survivors releases their leases; then every accepted row is stored
    for (const m of alive) await m.stop();
    expect(running().flat()).toEqual([]);
    for (const p of pipelines) await p.stop();
    const accepted = pipelines.reduce((n, p) => n + p.processor.stats().rowsProduced, 0);
    const [{ n: stored }] = await t.storage.query<{ n: number }>('SELECT count(*)::int AS n FROM greek_snapshots');
    expect(accepted).toBeGreaterThan(0);
    expect(stored).toBe(accepted);
    const after = await clusterStatus(t.storage, clock.now());
    expect(after.leases.filter((l) => l.live)).toEqual([]);
  }, 60_000);

  it('a member that cannot renew stops its streams before its lease runs out (fence)', async () => {
    const clock = new FakeClock(Date.UTC(2026, 0, 6, 15, 0, 0));
    let down = false;
    const storage = { query: <T>(text: string, params?: unknown[]) => (down ? Promise.reject(new Error('db down')) : t.storage.query<T>(text, params)) };
    const started: string[] = [];
    const stopped: string[] = [];
    const m = new ClusterMember({
      storage, clock, log: testLogger, memberId: 'fence', units: ['x:*'], ttlMs: 15_000, heartbeatMs: 5_000,
      start: async (u) => void started.push(u), stop: async (u) => void stopped.push(u),
    });
    await t.storage.query('DELETE FROM ingest_members');
    await m.heartbeat();
    expect(started).toEqual(['x:*']);
    down = true;
    clock.advance(5_000);
    await m.heartbeat(); // renewal fails; lease ends at +15 s, the next beat would be at +10 s: still safe
    expect(stopped).toEqual([]);
    clock.advance(5_000);
    await m.heartbeat(); // +10 s: the lease ends within one heartbeat: stop now
    expect(stopped).toEqual(['x:*']);
    expect(m.owned()).toEqual([]);
    expect(clock.now()).toBeLessThan(Date.UTC(2026, 0, 6, 15, 0, 15)); // before anyone else may take it
  });
});

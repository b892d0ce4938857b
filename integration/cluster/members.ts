/**
 * Three cluster members (a, b, c), each with its own pipeline, sharing `units` on one FakeClock:
 * the set-up of the lease takeover tests (takeover.test.ts, brokers.test.ts).
 */
import { expect } from 'vitest';
import { ClusterMember } from '../../src/app/cluster.js';
import { readAppConfig } from '../../src/app/config.js';
import { Pipeline } from '../../src/app/pipeline.js';
import type { ActorSpec } from '../../src/actors/supervisor.js';
import { MemoryJournal } from '../../src/core/journal.js';
import type { Storage } from '../../src/db/types.js';
import type { FakeClock } from '../../tests/helpers/fake-clock.js';
import { testLogger } from '../helpers/pg.js';

export function threeMembers(storage: Storage, clock: FakeClock, units: string[] & { spec(unit: string): ActorSpec }) {
  const pipelines = ['a', 'b', 'c'].map(() => new Pipeline({ storage, config: readAppConfig({}), log: testLogger, journal: new MemoryJournal() }));
  const members = ['a', 'b', 'c'].map((id, i) => new ClusterMember({
    storage, clock, log: testLogger, memberId: id, units, ttlMs: 15_000, heartbeatMs: 5_000, host: 'test', pid: i,
    start: (unit) => pipelines[i].startActor(units.spec(unit)),
    stop: (unit) => pipelines[i].stopActor(unit),
  }));
  const running = () => pipelines.map((p) => p.supervisor.status().filter((s) => s.state !== 'stopped').map((s) => s.id).sort());
  /** No unit owned or running twice, and what runs is what is leased; returns the owned units, sorted. */
  const exactlyOnce = (alive: ClusterMember[]) => {
    const owned = alive.flatMap((m) => m.owned());
    expect(new Set(owned).size).toBe(owned.length);
    const r = running();
    members.forEach((m, i) => expect(r[i]).toEqual(alive.includes(m) ? m.owned() : []));
    return owned.sort();
  };
  /** Advances the clock, then one heartbeat of each live member. */
  const beat = async (ms: number, alive: ClusterMember[]) => {
    clock.advance(ms);
    for (const m of alive) await m.heartbeat();
  };
  return { pipelines, members, running, exactlyOnce, beat };
}

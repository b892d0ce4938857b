import { ClusterMember, CLUSTER_DEFAULTS } from '../app/cluster.js';
import { readAppConfig } from '../app/config.js';
import { Pipeline } from '../app/pipeline.js';
import { clusterUnits } from '../cli/ingest.js';
import { systemClock } from '../core/clock.js';
import { MemoryJournal } from '../core/journal.js';
import { openStorage } from '../db/index.js';
import { freshBenchDatabase } from './database.js';
import type { ScaleSection } from './scale.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * cluster.{processes,takeover_s,double_streamed}: three cluster members (each its own pipeline
 * and connection pool, in this process) share six sim accounts with the default lease timing
 * (CLUSTER_LEASE_MS 15 s, heartbeat 5 s) on the system clock; one member dies (streams stop,
 * its leases are left to expire). takeover_s = from the death until every orphaned account is
 * streamed again and has a new row; double_streamed = accounts seen running in two members at
 * one of the 100 ms samples; rows_lost = rows the members accepted − rows stored.
 */
export const CLUSTER_SECTION: ScaleSection = {
  key: 'cluster',
  title: 'ingest --cluster: lease takeover after a member dies',
  async run(ctx) {
    const db = await freshBenchDatabase(ctx.databaseUrl);
    const storage = await openStorage({ databaseUrl: db.url, log: ctx.log, maxConnections: 6 });
    const pipelines: Pipeline[] = [];
    const members: ClusterMember[] = [];
    let sampler: NodeJS.Timeout | undefined;
    try {
      const units = clusterUnits([{ id: 'sim', broker: 'sim', flags: { rate: '50', accounts: '6' } }]);
      for (let i = 0; i < 3; i++) {
        const p = new Pipeline({ storage, config: readAppConfig(), log: ctx.log, journal: new MemoryJournal() });
        pipelines.push(p);
        members.push(new ClusterMember({
          storage, clock: systemClock, log: ctx.log, units, memberId: `bench-${i}`, host: 'bench', pid: process.pid,
          start: (u) => p.startActor(units.spec(u)), stop: (u) => p.stopActor(u),
        }));
      }
      for (const m of members) await m.join();
      for (const m of members) m.start();
      let doubled = new Set<string>();
      const runningIn = () => pipelines.map((p) => new Set(p.supervisor.status().filter((s) => s.state !== 'stopped').map((s) => s.id)));
      sampler = setInterval(() => {
        const seen = new Map<string, number>();
        for (const set of runningIn()) for (const u of set) seen.set(u, (seen.get(u) ?? 0) + 1);
        for (const [u, n] of seen) if (n > 1) doubled.add(u);
      }, 100);
      const rowsOf = async (account: string) => Number((await storage.query<{ n: number }>('SELECT count(*)::int AS n FROM greek_snapshots WHERE account = $1', [account]))[0].n);
      const t0 = Date.now();
      while (members.flatMap((m) => m.owned()).length < units.length && Date.now() - t0 < 60_000) await sleep(200);
      await sleep(3000);
      const victim = members[1];
      const orphaned = victim.owned();
      ctx.say(`cluster: all ${units.length} accounts leased (${members.map((m) => m.owned().length).join('/')}); killing member 1 (${orphaned.join(', ')})...`);
      const before = await Promise.all(orphaned.map((u) => rowsOf(u.slice(4))));
      const diedAt = Date.now();
      await victim.crash();
      const survivors = [members[0], members[2]];
      let takeoverMs = -1;
      while (Date.now() - diedAt < 90_000) {
        const owned = new Set(survivors.flatMap((m) => m.owned()));
        if (orphaned.every((u) => owned.has(u))) {
          const now = await Promise.all(orphaned.map((u) => rowsOf(u.slice(4))));
          if (now.every((n, i) => n > before[i])) {
            takeoverMs = Date.now() - diedAt;
            break;
          }
        }
        await sleep(100);
      }
      clearInterval(sampler);
      sampler = undefined;
      const gaps = survivors.flatMap((m) => m.takeovers.map((t) => t.gapMs ?? 0));
      for (const m of survivors) await m.stop();
      for (const p of pipelines) await p.stop();
      const accepted = pipelines.reduce((n, p) => n + p.processor.stats().rowsProduced, 0);
      const [{ n: stored }] = await storage.query<{ n: number }>('SELECT count(*)::int AS n FROM greek_snapshots');
      const rowsLost = accepted - Number(stored);
      const takeoverS = takeoverMs < 0 ? null : Math.round(takeoverMs / 100) / 10;
      const doubleStreamed = doubled.size;
      doubled = new Set();
      return {
        json: {
          processes: members.length, accounts: units.length, takeover_s: takeoverS, double_streamed: doubleStreamed, rows_lost: rowsLost,
          rows_stored: Number(stored), lease_ms: CLUSTER_DEFAULTS.ttlMs, heartbeat_ms: CLUSTER_DEFAULTS.heartbeatMs,
          lease_gap_ms: gaps.length ? Math.max(...gaps) : null, in_process: true,
        },
        ok: takeoverS !== null && takeoverS <= 30 && doubleStreamed === 0 && rowsLost === 0,
        lines: [
          `cluster: ${members.length} members, ${units.length} sim accounts, lease ${CLUSTER_DEFAULTS.ttlMs / 1000} s / heartbeat ${CLUSTER_DEFAULTS.heartbeatMs / 1000} s: a dead member's accounts streamed again after ${takeoverS ?? 'never (> 90)'} s (target ≤ 30); double streamed ${doubleStreamed}; rows lost ${rowsLost} of ${accepted} accepted`,
        ],
      };
    } finally {
      if (sampler) clearInterval(sampler);
      for (const m of members) await m.stop().catch(() => undefined);
      for (const p of pipelines) await p.stop().catch(() => undefined);
      await storage.close().catch(() => undefined);
      await db.drop();
    }
  },
};

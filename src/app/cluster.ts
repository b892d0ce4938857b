/**
 * ingest --cluster (specs/cluster.md, D55): several ingest processes with the same configuration
 * share the stream units (broker:account) through leases in PostgreSQL (ingest_leases,
 * migration 0004). Each member, every heartbeat:
 *   1. renews its member row and the leases it holds (owner = me): a lease it could not renew
 *      is dropped, and its stream stopped at once;
 *   2. self-fences: a stream whose lease expires within FENCE (one heartbeat) without a
 *      successful renewal is stopped, so an isolated member stops before anyone may take over;
 *   3. takes free or expired leases up to its fair share (ceil(units / live members)), and
 *      releases the ones above it, one per heartbeat, so a new member gets work.
 * A unit's stream runs only between a successful acquire/renew and the fence, so two members
 * never stream one unit at the same time as long as their clocks differ by less than FENCE
 * (hosts run NTP). A dead member's units are taken once its leases expire: within
 * ttl + heartbeat (15 + 5 s by default). Every row a member accepted before it died is in
 * its journal or the database (the pipeline's guarantee); what the broker sent during the gap
 * is the loss, bounded by gap_ms per takeover (the new owner's start − the dead owner's last
 * heartbeat; -1 marks a lease released cleanly).
 * All times come from the injected clock (FakeClock in tests).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { ActorSpec } from '../actors/supervisor.js';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Storage } from '../db/types.js';
import { MANIFESTS } from '../brokers/registry.js';
import type { AppConfig } from './config.js';

export interface ClusterOptions {
  storage: Pick<Storage, 'query'>;
  clock: Clock;
  log: Logger;
  /** unique per process: host:pid:random by default */
  memberId: string;
  /** every unit of the shared configuration, e.g. ['sim:SIM-1', 'sim:SIM-2', 'tasty:*'] */
  units: string[];
  /** starts streaming a unit (resolves once started or failed; a failure is retried next heartbeat) */
  start(unit: string): Promise<void>;
  /** stops streaming a unit, its accepted rows handed to the writer */
  stop(unit: string): Promise<void>;
  ttlMs?: number;
  heartbeatMs?: number;
  host?: string;
  pid?: number;
}

export const CLUSTER_DEFAULTS = { ttlMs: 15_000, heartbeatMs: 5_000 };

const TS = (p: string) => `('epoch'::timestamptz + (${p})::float8 * interval '1 millisecond')`;
const MS = (col: string) => `(extract(epoch FROM ${col}) * 1000)::float8`;

export interface LeaseRow {
  unit: string;
  /** what the unit streams (unitCovers): `account X`, or why the broker is one unit */
  covers: string;
  owner: string;
  generation: number;
  acquiredAt: number;
  heartbeatAt: number;
  expiresAt: number;
  previousOwner: string | null;
  gapMs: number | null;
}

export interface MemberRow {
  member: string;
  host: string;
  pid: number;
  startedAt: number;
  heartbeatAt: number;
  expiresAt: number;
}

/** Who owns what (status): every lease and every member, with liveness at `now`. */
export async function clusterStatus(storage: Pick<Storage, 'query'>, now: number): Promise<{ leases: Array<LeaseRow & { live: boolean }>; members: Array<MemberRow & { live: boolean; units: string[] }> }> {
  const leases = (await storage.query<Record<string, unknown>>(
    `SELECT unit, owner, generation, ${MS('acquired_at')} AS a, ${MS('heartbeat_at')} AS h, ${MS('expires_at')} AS e, previous_owner, gap_ms FROM ingest_leases ORDER BY unit`,
  )).map((r) => ({
    unit: String(r.unit), covers: unitCovers(String(r.unit)), owner: String(r.owner), generation: Number(r.generation), acquiredAt: Number(r.a), heartbeatAt: Number(r.h), expiresAt: Number(r.e),
    previousOwner: r.previous_owner === null ? null : String(r.previous_owner), gapMs: r.gap_ms === null ? null : Number(r.gap_ms), live: Number(r.e) > now,
  }));
  const members = (await storage.query<Record<string, unknown>>(
    `SELECT member, host, pid, ${MS('started_at')} AS s, ${MS('heartbeat_at')} AS h, ${MS('expires_at')} AS e FROM ingest_members ORDER BY member`,
  )).map((r) => ({
    member: String(r.member), host: String(r.host), pid: Number(r.pid), startedAt: Number(r.s), heartbeatAt: Number(r.h), expiresAt: Number(r.e), live: Number(r.e) > now,
    units: leases.filter((l) => l.owner === String(r.member) && l.live).map((l) => l.unit),
  }));
  return { leases, members };
}

export class ClusterMember {
  readonly ttlMs: number;
  readonly heartbeatMs: number;
  /** unit → lease expiry (our clock) of the streams we run */
  private readonly running = new Map<string, number>();
  private timer: TimerHandle | undefined;
  private busy: Promise<void> | undefined;
  private stopped = false;
  private readonly startedAt: number;
  private last: (Awaited<ReturnType<typeof clusterStatus>> & { at: number }) | undefined;
  /** takeovers this member made: unit, previous owner, gap (ms) */
  readonly takeovers: Array<{ unit: string; from: string | null; gapMs: number | null; at: number }> = [];

  constructor(private readonly o: ClusterOptions) {
    this.ttlMs = o.ttlMs ?? CLUSTER_DEFAULTS.ttlMs;
    this.heartbeatMs = o.heartbeatMs ?? CLUSTER_DEFAULTS.heartbeatMs;
    if (this.heartbeatMs * 2 >= this.ttlMs) throw new Error(`cluster: the heartbeat (${this.heartbeatMs} ms) must be under half the lease (${this.ttlMs} ms)`);
    this.startedAt = o.clock.now();
  }

  get id(): string {
    return this.o.memberId;
  }

  /** The /v1/streaming/status `cluster` document: this member, its units, and the cluster as of its last heartbeat. */
  view() {
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      member: this.o.memberId, streaming: this.owned(), lease_ms: this.ttlMs, heartbeat_ms: this.heartbeatMs,
      as_of: this.last ? iso(this.last.at) : null,
      leases: (this.last?.leases ?? []).map((l) => ({ unit: l.unit, covers: l.covers, owner: l.owner, live: l.live, expires_at: iso(l.expiresAt), previous_owner: l.previousOwner, takeover_gap_ms: l.gapMs !== null && l.gapMs >= 0 ? l.gapMs : null })),
      members: (this.last?.members ?? []).map((m) => ({ member: m.member, host: m.host, pid: m.pid, live: m.live, units: m.units })),
    };
  }

  /** The units this member streams now. */
  owned(): string[] {
    return [...this.running.keys()].sort();
  }

  /** Registers the member (counted in everyone's fair share from now on) without taking leases. */
  async join(): Promise<void> {
    const now = this.o.clock.now();
    await this.o.storage.query(
      `INSERT INTO ingest_members (member, host, pid, started_at, heartbeat_at, expires_at) VALUES ($1, $2, $3, ${TS('$4')}, ${TS('$5')}, ${TS('$6')})
       ON CONFLICT (member) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at`,
      [this.o.memberId, this.o.host ?? hostname(), this.o.pid ?? process.pid, this.startedAt, now, now + this.ttlMs],
    );
  }

  /** Heartbeats on the clock; the first one at once. */
  start(): void {
    void this.heartbeat();
    this.timer = this.o.clock.setInterval(() => void this.heartbeat(), this.heartbeatMs);
  }

  /** One heartbeat (serialised: a slow one is not overlapped by the next). */
  heartbeat(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.busy ??= this.beat().finally(() => (this.busy = undefined));
    return this.busy;
  }

  private async beat(): Promise<void> {
    const { clock, storage, log, memberId } = this.o;
    const now = clock.now();
    const expires = now + this.ttlMs;
    try {
      await this.join();
      // 1. renew what we hold
      const mine = this.owned();
      const renewed = mine.length === 0 ? [] : (await storage.query<{ unit: string }>(
        `UPDATE ingest_leases SET heartbeat_at = ${TS('$2')}, expires_at = ${TS('$3')} WHERE owner = $1 AND unit = ANY($4::text[]) AND expires_at > ${TS('$2')} RETURNING unit`,
        [memberId, now, expires, mine],
      )).map((r) => r.unit);
      for (const u of renewed) this.running.set(u, expires);
      for (const u of mine.filter((m) => !renewed.includes(m))) {
        log.warn({ unit: u }, 'cluster: lease lost (expired or taken): stopping its stream');
        await this.stopUnit(u);
      }
      // 3. fair share among live members
      const [{ n }] = await storage.query<{ n: number }>(`SELECT count(*)::int AS n FROM ingest_members WHERE expires_at > ${TS('$1')}`, [now]);
      const share = Math.ceil(this.o.units.length / Math.max(1, Number(n)));
      let want = share - this.running.size;
      if (want > 0) {
        const free = this.o.units.filter((u) => !this.running.has(u));
        // rotate the candidate list per member so several members do not all go for the same first unit
        const off = hash(memberId) % Math.max(1, free.length);
        const acquired: string[] = [];
        for (const unit of [...free.slice(off), ...free.slice(0, off)]) {
          if (want <= 0) break;
          const now = clock.now();
          const expires = now + this.ttlMs;
          const got = await storage.query<{ previous_owner: string | null; gap_ms: number | null }>(
            `INSERT INTO ingest_leases AS l (unit, owner, generation, acquired_at, heartbeat_at, expires_at, previous_owner, gap_ms)
             VALUES ($1, $2, 1, ${TS('$3')}, ${TS('$3')}, ${TS('$4')}, NULL, NULL)
             ON CONFLICT (unit) DO UPDATE SET owner = excluded.owner, generation = l.generation + 1, acquired_at = excluded.acquired_at,
               heartbeat_at = excluded.heartbeat_at, expires_at = excluded.expires_at, previous_owner = l.owner,
               gap_ms = CASE WHEN l.owner = excluded.owner OR l.gap_ms < 0 THEN NULL ELSE $3::float8 - ${MS('l.heartbeat_at')} END
             WHERE l.expires_at <= ${TS('$3')}
             RETURNING previous_owner, gap_ms`,
            [unit, memberId, now, expires],
          );
          if (got.length === 0) continue;
          const prev = got[0].previous_owner;
          const gapMs = got[0].gap_ms === null ? null : Number(got[0].gap_ms);
          if (prev !== null && prev !== memberId) this.takeovers.push({ unit, from: prev, gapMs, at: now });
          this.running.set(unit, expires);
          want--;
          log.info({ unit, from: prev, gapMs }, prev && prev !== memberId ? 'cluster: took over an expired lease' : 'cluster: acquired a lease');
          acquired.push(unit);
        }
        // Streams start together once the leases are held (an actor's start takes a second or more).
        await Promise.all(acquired.map(async (unit) => {
          try {
            await this.o.start(unit);
          } catch (err) {
            log.warn({ unit, err: err instanceof Error ? err.message : String(err) }, 'cluster: could not start the stream; releasing the lease');
            await this.releaseUnit(unit, clock.now());
          }
        }));
      } else if (want < 0) {
        // above the fair share (a member joined): hand one unit back per heartbeat
        const unit = this.owned()[this.running.size - 1];
        log.info({ unit, share }, 'cluster: above the fair share: releasing one lease');
        await this.releaseUnit(unit, clock.now());
      }
      this.last = { ...(await clusterStatus(storage, clock.now())), at: clock.now() };
    } catch (err) {
      log.warn({ err: err instanceof Error ? err.message : String(err) }, 'cluster: heartbeat failed');
    }
    // 2. self-fence: anything we could not renew in time stops before its lease runs out
    const fenceAt = clock.now() + this.heartbeatMs;
    for (const [unit, exp] of [...this.running]) {
      if (exp <= fenceAt) {
        log.warn({ unit }, 'cluster: lease about to expire without renewal: stopping its stream (fence)');
        await this.stopUnit(unit);
      }
    }
  }

  private async stopUnit(unit: string): Promise<void> {
    this.running.delete(unit);
    try {
      await this.o.stop(unit);
    } catch (err) {
      this.o.log.warn({ unit, err: err instanceof Error ? err.message : String(err) }, 'cluster: stopping a stream failed');
    }
  }

  /** Stops the stream, then frees the lease for anyone (expires now). */
  private async releaseUnit(unit: string, now: number): Promise<void> {
    await this.stopUnit(unit);
    await this.o.storage.query(`UPDATE ingest_leases SET expires_at = ${TS('$3')}, gap_ms = -1 WHERE unit = $1 AND owner = $2`, [unit, this.o.memberId, now]);
  }

  /** Clean exit: stop every stream, release the leases (taken at once by the others), leave. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearInterval(this.timer);
    await this.busy;
    const now = this.o.clock.now();
    for (const unit of this.owned()) await this.releaseUnit(unit, now).catch(() => undefined);
    await this.o.storage.query('DELETE FROM ingest_members WHERE member = $1', [this.o.memberId]).catch(() => undefined);
  }

  /** Simulated death (tests, bench): heartbeats stop, streams stop, leases and member row stay until they expire. */
  async crash(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearInterval(this.timer);
    await this.busy;
    for (const unit of this.owned()) await this.stopUnit(unit);
  }
}

/** What a unit streams, for status: one account, or what the broker's single unit covers. Pure. */
export function unitCovers(unit: string): string {
  const i = unit.indexOf(':');
  const broker = i < 0 ? unit : unit.slice(0, i);
  const rest = i < 0 ? '*' : unit.slice(i + 1);
  if (rest !== '*') return `account ${rest}`;
  return MANIFESTS.find((m) => m.id === broker)?.cluster?.whole ?? 'every account of the broker (one stream)';
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * ingest --cluster: the stream units of the configuration, the same list in every member.
 * A broker whose manifest lists its accounts (PluginManifest.cluster: sim per simulated account,
 * tasty per TASTY_ACCOUNTS account) gets one unit per account (`broker:account`, its actor
 * started with --only-account); any other broker one unit (`broker:*`) streaming all its
 * accounts: alpaca (one key = one account), ibkr (the gateway session), tasty without
 * TASTY_ACCOUNTS. unitCovers() says what each unit is.
 */
export function clusterUnits(specs: ActorSpec[], env: Record<string, string | undefined> = process.env): string[] & { spec(unit: string): ActorSpec } {
  const bySpec = new Map<string, ActorSpec>();
  for (const spec of specs) {
    const accounts = MANIFESTS.find((m) => m.id === spec.broker)?.cluster?.accounts(env, spec.flags ?? {}) ?? null;
    if (accounts && accounts.length > 0) {
      for (const a of accounts) bySpec.set(`${spec.broker}:${a}`, { ...spec, id: `${spec.broker}:${a}`, flags: { ...spec.flags, 'only-account': a } });
    } else {
      bySpec.set(`${spec.broker}:*`, { ...spec, id: `${spec.broker}:*` });
    }
  }
  const units = Object.assign([...bySpec.keys()], {
    spec(unit: string): ActorSpec {
      const s = bySpec.get(unit);
      if (!s) throw new Error(`cluster: unknown unit ${unit}`);
      return s;
    },
  });
  return units;
}

/**
 * ingest|serve --cluster: a member on the system clock that starts and stops the pipeline's
 * actors for the units it leases. Throws ConfigError on a heartbeat not under half the lease.
 */
export function startCluster(
  pipeline: { startActor(spec: ActorSpec): Promise<void>; stopActor(id: string): Promise<void> },
  storage: Pick<Storage, 'query'>, specs: ActorSpec[], config: AppConfig, log: Logger,
): ClusterMember {
  const ttlMs = config.clusterLeaseMs ?? CLUSTER_DEFAULTS.ttlMs;
  const heartbeatMs = config.clusterHeartbeatMs ?? CLUSTER_DEFAULTS.heartbeatMs;
  if (heartbeatMs * 2 >= ttlMs) throw new ConfigError(`CLUSTER_HEARTBEAT_MS=${heartbeatMs} must be under half of CLUSTER_LEASE_MS=${ttlMs}`);
  const units = clusterUnits(specs);
  const member = new ClusterMember({
    storage, clock: systemClock, log, units, memberId: `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`, ttlMs, heartbeatMs,
    start: (unit) => pipeline.startActor(units.spec(unit)),
    stop: (unit) => pipeline.stopActor(unit),
  });
  member.start();
  log.info({ units: units.length, member: member.id }, 'cluster member: streaming the units it leases');
  return member;
}

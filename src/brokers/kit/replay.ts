/**
 * Replay of wire recordings (npm run replay): the recorded actor's stream is built with replay
 * transports and a manual clock; the driver moves the clock to each record's receipt time and
 * hands the record to its transport, so the stream decodes, times and emits exactly as it did live.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManualClock } from '../../core/clock.js';
import type { WireMeta, WireRecord } from './wire.js';

export interface Recording {
  meta: WireMeta;
  records: WireRecord[];
  files: string[];
}

/**
 * Every recorded stream session in `dir`, oldest first per actor. Files of one actor sort in
 * write order; a meta line opens a session (a worker restart appends a new one to the same file;
 * a rotated file repeats the meta of the session it continues).
 */
export function readRecordings(dir: string): Recording[] {
  // `a-2026-12-03.ndjson` comes before its rotations `a-2026-12-03.001.ndjson`, …
  const order = (f: string) => (/\.\d{3}\.ndjson$/.test(f) ? f : f.replace(/\.ndjson$/, '.000.ndjson'));
  const files = readdirSync(dir).filter((f) => f.endsWith('.ndjson')).sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  const sessions = new Map<string, Recording>();
  for (const f of files) {
    const lines = readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean);
    let cur: Recording | null = null;
    for (const line of lines) {
      let parsed: (WireRecord | WireMeta) & { kind: string };
      try {
        parsed = JSON.parse(line);
      } catch {
        continue; // a line cut by a crash mid-write: the rest of the file is still good
      }
      if (parsed.kind === 'meta') {
        const meta = parsed as WireMeta;
        const key = `${meta.actor}\u0000${meta.session}`;
        cur = sessions.get(key) ?? { meta, records: [], files: [] };
        sessions.set(key, cur);
        if (!cur.files.includes(f)) cur.files.push(f);
      } else if (!cur) {
        throw new Error(`${join(dir, f)}: records before any meta line: is this a riskwire recording?`);
      } else {
        cur.records.push(parsed as WireRecord);
      }
    }
  }
  return [...sessions.values()].sort((a, b) => a.meta.startedAt - b.meta.startedAt);
}

/** Request/reply replay (REST): a request of `key` is answered by the next recorded reply of `key`. */
export class ReplayReplies {
  private waiting = new Map<string, ((rec: WireRecord) => void)[]>();
  private early = new Map<string, WireRecord[]>();

  /** The next reply to `key`, when the driver reaches it (or at once if it was reached already). */
  request(key: string): Promise<WireRecord> {
    const ready = this.early.get(key)?.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve) => {
      const q = this.waiting.get(key) ?? [];
      q.push(resolve);
      this.waiting.set(key, q);
    });
  }

  /** Someone is waiting for a reply to `key`. */
  awaited(key: string): boolean {
    return (this.waiting.get(key)?.length ?? 0) > 0;
  }

  deliver(rec: WireRecord): void {
    const key = rec.key ?? '';
    const next = this.waiting.get(key)?.shift();
    if (next) return next(rec);
    const q = this.early.get(key) ?? [];
    q.push(rec);
    this.early.set(key, q);
  }
}

/**
 * Socket replay: the stream's n-th socket of a channel gets the records of connection n. Records
 * for a socket the stream has not opened yet wait for it; records for a socket it closed are
 * dropped (live, its callbacks were ignored too).
 */
export class ReplaySockets {
  private count = 0;
  private sinks = new Map<number, (rec: WireRecord) => void>();
  private closed = new Set<number>();
  private pending = new Map<number, WireRecord[]>();

  /** The stream opens a socket: returns its connection number and a close() for the stream. */
  open(sink: (rec: WireRecord) => void): { conn: number; close(): void } {
    const conn = ++this.count;
    this.sinks.set(conn, sink);
    const early = this.pending.get(conn) ?? [];
    this.pending.delete(conn);
    // Delivered after the factory returns: the stream holds its socket before any callback.
    if (early.length) queueMicrotask(() => early.forEach((r) => this.deliver(r)));
    return { conn, close: () => void this.closed.add(conn) };
  }

  /** The stream has opened connection `conn` (and may have closed it since). */
  opened(conn: number): boolean {
    return conn <= this.count;
  }

  deliver(rec: WireRecord): void {
    if (this.closed.has(rec.conn)) return;
    const sink = this.sinks.get(rec.conn);
    if (sink) return sink(rec);
    const q = this.pending.get(rec.conn) ?? [];
    q.push(rec);
    this.pending.set(rec.conn, q);
  }
}

export interface ReplayRunOptions {
  /** Real-time factor (2 = twice as fast); undefined or Infinity = as fast as possible. */
  speed?: number;
  /**
   * Real time to wait for the stream to make the request or open the connection a record is
   * for (a lazy import, a chain of REST continuations) before handing it over anyway. Default 2 s.
   */
  catchUpMs?: number;
}

/** Lets promise continuations and immediates run (REST replies resolve, sockets get opened). */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 20; j++) await Promise.resolve();
    await new Promise((r) => setImmediate(r));
  }
}

/**
 * Moves `clock` through the records in time order, stopping at every timer the stream set on the
 * way (so its timers fire at their own times, with its async work settled in between), and hands
 * each record to `dispatch` at its receipt time.
 */
export async function driveReplay(clock: ManualClock, records: WireRecord[], feed: ReplayFeed, opts: ReplayRunOptions = {}): Promise<{ early: number }> {
  const realDelay = (ms: number) => (opts.speed && Number.isFinite(opts.speed) && ms > 0 ? sleepReal(ms / opts.speed) : Promise.resolve());
  let early = 0;
  await settle();
  for (const rec of records) {
    await advanceTo(clock, rec.t, realDelay);
    // The fake clock stands still while the stream's own async work catches up.
    for (let waited = 0; !feed.ready(rec) && waited < (opts.catchUpMs ?? 2_000); waited += 5) await sleepReal(5);
    if (!feed.ready(rec)) early++;
    feed.dispatch(rec);
    await settle();
  }
  return { early };
}

export async function advanceTo(clock: ManualClock, t: number, realDelay: (ms: number) => Promise<unknown> = () => Promise.resolve()): Promise<void> {
  while (clock.now() < t) {
    const due = clock.nextDue();
    const to = due !== null && due < t ? Math.max(due, clock.now()) : t;
    await realDelay(to - clock.now());
    clock.advance(to - clock.now());
    await settle();
  }
}

function sleepReal(ms: number): Promise<void> {
  // Pacing for --speed only: real time on purpose (the replayed stream runs on the manual clock).
  // eslint-disable-next-line no-restricted-globals
  return new Promise((r) => setTimeout(r, ms));
}

const isReply = (rec: WireRecord) => rec.kind === 'reply' || (rec.kind === 'error' && rec.conn === 0);

/** Routes records to their transport: replies by key, socket records by channel and connection. */
export class ReplayFeed {
  readonly replies = new ReplayReplies();
  private readonly channels = new Map<string, ReplaySockets>();

  sockets(ch: string): ReplaySockets {
    let s = this.channels.get(ch);
    if (!s) this.channels.set(ch, (s = new ReplaySockets()));
    return s;
  }

  dispatch(rec: WireRecord): void {
    if (isReply(rec)) this.replies.deliver({ ...rec, key: `${rec.ch} ${rec.key ?? ''}` });
    else this.sockets(rec.ch).deliver(rec);
  }

  /** The stream is ready for `rec`: it made the request, or opened the connection, it belongs to. */
  ready(rec: WireRecord): boolean {
    return isReply(rec) ? this.replies.awaited(`${rec.ch} ${rec.key ?? ''}`) : this.sockets(rec.ch).opened(rec.conn);
  }

  /** A request on channel `ch`: resolves with the recorded reply's record. */
  request(ch: string, key: string): Promise<WireRecord> {
    return this.replies.request(`${ch} ${key}`);
  }
}

/** SqlDriver over postgres.js: a pooled client that reconnects lazily on the next query after a lost connection. */
import { connect as netConnect, type Socket } from 'node:net';
import postgres from 'postgres';
import { systemClock, type Clock } from '../core/clock.js';
import { withDeadline } from '../core/deadline.js';
import type { SqlDriver, SqlSession } from './driver.js';
import { StorageError } from './errors.js';

export interface PostgresDriverOptions {
  /** Pool size: the writer keeps a few flushes in flight, readers (API, CLI) share the rest. */
  max?: number;
  /** Seconds before a connection attempt is given up (bounded so a bad host fails fast). */
  connectTimeoutSec?: number;
  /**
   * Server-side statement_timeout and lock_timeout (ms) of every session; 0 = none. The client
   * also gives up on a statement (or a whole transaction) `statementTimeoutMs + connect timeout`
   * after sending it, so a blackholed server (no RST, no answer) cannot hold a caller forever.
   */
  statementTimeoutMs?: number;
  clock?: Clock;
  /** application_name (pg_stat_activity), default riskwire. */
  applicationName?: string;
  /**
   * max_parallel_workers_per_gather = 0 for these sessions: one query, one backend. The API's
   * reads set it so that a scan never takes every core from the writer's backend (D74).
   */
  serial?: boolean;
}

type Sql = ReturnType<typeof postgres>;
type Params = Parameters<Sql['unsafe']>[1];

/** A statement or transaction the server did not answer in time: retryable. */
const queryTimeout = (what: string, ms: number) => () =>
  new StorageError(`${what}: no answer from PostgreSQL within ${ms} ms (QUERY_TIMEOUT)`, true, 'QUERY_TIMEOUT');

function sessionOf(sql: Pick<Sql, 'unsafe'>, deadlineMs: number, clock: Clock): SqlSession {
  const run = (text: string, params: unknown[] | undefined) => {
    // unsafe() because the SQL is built from constants in this folder; values always travel as parameters.
    const q = params === undefined ? sql.unsafe(text) : sql.unsafe(text, params as Params);
    // No client-side cancel on timeout: postgres.js would open a cancel socket that nobody
    // answers (blackhole) and whose reset nobody handles; the server's statement_timeout ends it.
    return withDeadline(q.then((r) => r), deadlineMs, clock, queryTimeout('statement', deadlineMs));
  };
  return {
    async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
      return (await run(text, params)) as unknown as T[];
    },
    async execute(text: string, params: unknown[] = []): Promise<number> {
      return (await run(text, params)).count;
    },
    async exec(script: string): Promise<void> {
      // Without parameters postgres.js uses the simple protocol, which accepts several statements.
      await run(script, undefined);
    },
  };
}

/** One plain TCP host (not a Unix socket, not a multi-host list): the case noDelaySocket covers. */
function singleTcpHost(url: string): boolean {
  try {
    const u = new URL(url);
    return u.hostname !== '' && !u.host.includes(',') && !u.searchParams.has('host');
  } catch {
    return false;
  }
}

/**
 * postgres.js's own socket, with TCP_NODELAY. postgres.js still does the rest (startup, TLS
 * negotiation on this socket, connect timeout, errors), as with its default socket.
 */
function noDelaySocket(o: { host: string[]; port: number[] }): Socket {
  const s = netConnect({ host: o.host[0], port: o.port[0], noDelay: true });
  Object.assign(s, { host: o.host[0], port: o.port[0] });
  return s;
}

export function createPostgresDriver(url: string, opts: PostgresDriverOptions = {}): SqlDriver {
  const connectTimeoutSec = opts.connectTimeoutSec ?? 5;
  const statementTimeoutMs = opts.statementTimeoutMs ?? 0;
  const clock = opts.clock ?? systemClock;
  const sql = postgres(url, {
    max: opts.max ?? 10,
    connect_timeout: connectTimeoutSec,
    // postgres.js waits up to 20 s between reconnects of a connection; our flush policy already
    // backs off (and journals), so reconnect promptly once the server is back (seconds).
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    // IF NOT EXISTS and friends raise NOTICEs; postgres.js would print each one to stdout.
    onnotice: () => {},
    // JIT compiles for seconds on the timeline query and never pays back on our short statements.
    connection: {
      application_name: opts.applicationName ?? 'riskwire',
      jit: 'off',
      // The timeline over a month of history sorts ~100k rollup rows: 4 MB (the server default)
      // spills them to disk and doubles its time (specs/history.md). Per session, not server-wide.
      work_mem: '32MB',
      ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs, lock_timeout: statementTimeoutMs } : {}),
      ...(opts.serial ? { max_parallel_workers_per_gather: '0' } : {}),
    },
    // TCP_NODELAY: a COPY goes out as two writes (the data, then CopyDone); with Nagle on, the
    // second waits for the server's delayed ACK, 40-90 ms per COPY on loopback (D85).
    ...(singleTcpHost(url) ? { socket: noDelaySocket } : {}),
    // bigint (count(*), seq) as a JS number, as PGlite returns it, so raw reporting SQL gives the
    // same row shapes on both backends. Values beyond 2^53 do not occur in this schema.
    types: {
      int8AsNumber: { to: 20, from: [20], serialize: (x: number | bigint | string) => String(x), parse: (x: string) => Number(x) },
    },
  });
  // The server's own timeout answers first (57014, retryable); ours covers a server that cannot answer.
  const deadlineMs = statementTimeoutMs > 0 ? statementTimeoutMs + connectTimeoutSec * 1000 : 0;
  const base = sessionOf(sql, deadlineMs, clock);
  return {
    kind: 'postgres',
    target: { url, connectTimeoutSec, statementTimeoutMs },
    ...base,
    async queryArrays(text: string, params: unknown[] = []): Promise<unknown[][]> {
      return (await sql.unsafe(text, params as Params).values()) as unknown as unknown[][];
    },
    async copyIn(text: string, data: Buffer): Promise<void> {
      // Nothing may be pipelined behind a COPY on its connection: postgres.js sends queries to a
      // busy connection when every one is in use, and a query arriving during COPY-in breaks the
      // protocol (the COPY and the connection hang). onexecute → false marks the connection full.
      const q = sql.unsafe(text, [], { onexecute: () => false } as unknown as { prepare: boolean });
      // postgres.js 3.4 never settles the writable when the server rejects the data after
      // CopyDone (porsager/postgres#1173): the error only reaches the query's reject(), which
      // the connection calls although the query already resolved with the stream. Hook it.
      let serverError!: (err: unknown) => void;
      const failed = new Promise<never>((_, reject) => (serverError = reject));
      failed.catch(() => undefined);
      const q2 = q as unknown as { reject: (err: unknown) => void };
      const reject = q2.reject;
      q2.reject = (err) => {
        serverError(err);
        reject(err);
      };
      const done = (async () => {
        const w = await q.writable();
        // Its writable is autoDestroy'd after 'finish', and its destroy sends CopyFail whatever
        // happened: by then the pool may have handed the connection to the next COPY, which
        // that CopyFail aborts (57014 "COPY from stdin failed"). Once finished, destroy is quiet.
        const ws = w as unknown as { _destroy: (err: Error | null, cb: (err?: Error | null) => void) => void };
        const destroy = ws._destroy;
        ws._destroy = (err, cb) => {
          if (w.writableFinished) return cb(err);
          // When the connection closed under the COPY, postgres.js has already dropped its socket
          // and its destroy throws writing CopyFail to null, from inside its async close handler:
          // an unhandled rejection that ends the process. There is no server left to tell.
          try {
            destroy.call(w, err, cb);
          } catch {
            /* callback already called; only the CopyFail write failed */
          }
        };
        await Promise.race([
          failed,
          new Promise<void>((resolve, fail) => {
            w.once('error', fail);
            // end's callback also runs when the stream was destroyed (a reset connection): only
            // a finished stream (CommandComplete arrived) means the rows are in.
            w.end(data, (err?: Error | null) => (!err && w.writableFinished ? resolve() : fail(err ?? new Error('COPY: the stream ended without the server confirming it'))));
          }),
        ]);
      })();
      await withDeadline(done, deadlineMs, clock, queryTimeout('COPY', deadlineMs));
    },
    async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
      // Statements inside run on the transaction's connection; the deadline covers the whole of it.
      return (await withDeadline(sql.begin((tx) => fn(sessionOf(tx, 0, clock))), deadlineMs, clock, queryTimeout('transaction', deadlineMs))) as T;
    },
    async close(): Promise<void> {
      await sql.end({ timeout: 5 });
    },
  };
}

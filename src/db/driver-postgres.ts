/** SqlDriver over postgres.js: a pooled client that reconnects lazily on the next query after a lost connection. */
import postgres from 'postgres';
import type { SqlDriver, SqlSession } from './driver.js';

export interface PostgresDriverOptions {
  /** Pool size: the writer keeps a few flushes in flight, readers (API, CLI) share the rest. */
  max?: number;
  /** Seconds before a connection attempt is given up (bounded so a bad host fails fast). */
  connectTimeoutSec?: number;
  /** Server-side statement_timeout of every statement on this pool (ms); unset = the server's. */
  statementTimeoutMs?: number;
  /** application_name (pg_stat_activity), default riskwire. */
  applicationName?: string;
}

type Sql = ReturnType<typeof postgres>;
type Params = Parameters<Sql['unsafe']>[1];

function sessionOf(sql: Pick<Sql, 'unsafe'>): SqlSession {
  return {
    async query<T>(text: string, params: unknown[] = []): Promise<T[]> {
      // unsafe() because the SQL is built from constants in this folder; values always travel as parameters.
      const rows = await sql.unsafe(text, params as Params);
      return rows as unknown as T[];
    },
    async execute(text: string, params: unknown[] = []): Promise<number> {
      return (await sql.unsafe(text, params as Params)).count;
    },
    async exec(script: string): Promise<void> {
      // Without parameters postgres.js uses the simple protocol, which accepts several statements.
      await sql.unsafe(script);
    },
  };
}

export function createPostgresDriver(url: string, opts: PostgresDriverOptions = {}): SqlDriver {
  const sql = postgres(url, {
    max: opts.max ?? 10,
    connect_timeout: opts.connectTimeoutSec ?? 5,
    // postgres.js waits up to 20 s between reconnects of a connection; our flush policy already
    // backs off (and journals), so reconnect promptly once the server is back (seconds).
    backoff: (retries: number) => Math.min(0.05 * 2 ** retries, 1),
    // IF NOT EXISTS and friends raise NOTICEs; postgres.js would print each one to stdout.
    onnotice: () => {},
    // JIT compiles for seconds on the timeline query and never pays back on our short statements.
    connection: {
      application_name: opts.applicationName ?? 'riskwire', jit: 'off',
      ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
    },
    // bigint (count(*), seq) as a JS number, as PGlite returns it, so raw reporting SQL gives the
    // same row shapes on both backends. Values beyond 2^53 do not occur in this schema.
    types: {
      int8AsNumber: { to: 20, from: [20], serialize: (x: number | bigint | string) => String(x), parse: (x: string) => Number(x) },
    },
  });
  const base = sessionOf(sql);
  return {
    kind: 'postgres',
    ...base,
    async queryArrays(text: string, params: unknown[] = []): Promise<unknown[][]> {
      return (await sql.unsafe(text, params as Params).values()) as unknown as unknown[][];
    },
    async transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T> {
      return (await sql.begin((tx) => fn(sessionOf(tx)))) as T;
    },
    async close(): Promise<void> {
      await sql.end({ timeout: 5 });
    },
  };
}

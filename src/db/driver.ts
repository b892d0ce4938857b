/**
 * The few things Storage needs from a database client, so that the SQL in this folder runs
 * unchanged on postgres.js (a server) and PGlite (embedded). Both take `$1, $2, ...` parameters;
 * a JS array passed as one parameter becomes one PostgreSQL array (the basis of the unnest inserts).
 */
export interface SqlSession {
  /** One parameterised statement; rows as plain objects keyed by column name. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** One parameterised INSERT/UPDATE/DELETE; returns the rows it affected (the command tag). */
  execute(text: string, params?: unknown[]): Promise<number>;
  /** A script of several statements without parameters (migrations). */
  exec(script: string): Promise<void>;
}

/** How a postgres.js driver was opened, so a writer thread can open its own connections to the same place. */
export interface PostgresTarget {
  url: string;
  connectTimeoutSec: number;
  statementTimeoutMs: number;
}

export interface SqlDriver extends SqlSession {
  readonly kind: 'postgres' | 'pglite';
  /** PostgreSQL only: where and how it connects (never logged: the URL may hold a password). */
  readonly target?: PostgresTarget;
  /** One parameterised statement; rows as arrays of values in select-list order (drizzle's row mode). */
  queryArrays(text: string, params?: unknown[]): Promise<unknown[][]>;
  /**
   * PostgreSQL only: `COPY ... FROM STDIN` of ready-made data (one message, all or nothing);
   * rejects with the server's error (e.g. 23505 when a row exists). Absent on PGlite.
   */
  copyIn?(text: string, data: Buffer): Promise<void>;
  /** Runs fn in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Storage failures, classified once here so that every caller (the core processor's flush
 * loop, the CLI, the API) can decide between "retry the same batch later" and "give up on it".
 * Retrying is always safe for writes because every insert is idempotent (unique key +
 * ON CONFLICT DO NOTHING).
 */
import { redactText } from '../core/logger.js';
import { errorText } from '../core/errors.js';

export class StorageError extends Error {
  /** True when the same statement may succeed later (connection lost, server restarting, deadlock). */
  readonly retryable: boolean;
  /** SQLSTATE (e.g. '23505') or Node/postgres.js error code (e.g. 'ECONNREFUSED'), when known. */
  readonly code: string | undefined;

  constructor(message: string, retryable: boolean, code?: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'StorageError';
    this.retryable = retryable;
    this.code = code;
  }
}

/** Socket-level and postgres.js connection codes: the server was not there or went away. */
const RETRYABLE_CONNECTION_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN',
  'CONNECTION_ENDED', 'CONNECTION_CLOSED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  // Ours: the client-side deadline of a statement passed (blackholed server, stuck socket).
  'QUERY_TIMEOUT',
]);

/**
 * SQLSTATEs that say "the server could not do it now" rather than "this row is wrong": admin
 * shutdown / crash / cannot connect now (57P01..57P03), statement or lock timeout (57014, 55P03),
 * object in use (55006), read-only transaction (25006: failover, hot standby,
 * default_transaction_read_only), permission denied (42501: a grant can come back),
 * serialization failure and deadlock (40001, 40P01).
 */
const RETRYABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P04', '57P05', '57014', '55P03', '55006', '25006', '42501', '40001', '40P01']);

function codeOf(err: unknown): string | undefined {
  if (err && typeof err === 'object' && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'string' && code !== '') return code;
  }
  return undefined;
}

/** Classifies by code alone: pure, so it is unit-tested without a database. */
export function isRetryableCode(code: string | undefined): boolean {
  if (!code) return false;
  if (RETRYABLE_CONNECTION_CODES.has(code)) return true;
  if (RETRYABLE_SQLSTATES.has(code)) return true;
  // Class 08: connection exception; class 53: insufficient resources (disk full, out of memory,
  // too many connections); class 58: system error (I/O error on the server).
  if (/^(08|53|58)[0-9A-Z]{3}$/.test(code)) return true;
  // Class 22 (data exception) and 23 (integrity violation) are the batch's fault: retrying cannot help.
  return false;
}

/**
 * True when `err` (a StorageError, a postgres.js / PGlite error, or a Node socket error, possibly an
 * AggregateError from a multi-address connect) is worth retrying.
 */
export function isRetryableError(err: unknown): boolean {
  if (err instanceof StorageError) return err.retryable;
  if (isRetryableCode(codeOf(err))) return true;
  if (err instanceof AggregateError) return err.errors.some((e) => isRetryableError(e));
  return false;
}

/**
 * True only when the database refused a row for its own content: a data exception (class 22:
 * out of range, bad text), an integrity violation (class 23) or our own pre-insert validation
 * (INVALID_ROW). Such a row can never be written as it is: it is rejected and dead-lettered.
 * Every other failure (connection, timeouts, read-only, permissions, a missing table, an error
 * without a code) is something a later attempt or an operator can cure: the writer keeps the
 * rows, retries with backoff and journals them past its bound.
 */
export function isRowRejection(err: unknown): boolean {
  const code = err instanceof StorageError ? err.code : codeOf(err);
  if (err instanceof StorageError && err.retryable) return false;
  return code === 'INVALID_ROW' || (code !== undefined && /^(22|23)[0-9A-Z]{3}$/.test(code));
}

/** Wraps anything thrown by a driver into a StorageError (idempotent: a StorageError passes through). */
export function toStorageError(err: unknown, what: string): StorageError {
  if (err instanceof StorageError) return err;
  const code = codeOf(err) ?? (err instanceof AggregateError ? err.errors.map(codeOf).find(Boolean) : undefined);
  const detail = errorText(err);
  // Driver messages can echo connection strings: never let a password through.
  const message = `${what} failed${code ? ` (${code})` : ''}: ${redactText(detail).replace(/\s+/g, ' ')}`;
  return new StorageError(message, isRetryableError(err), code, err);
}

/**
 * The connection we used died under us (killed backend, reset socket), as opposed to the server
 * being unreachable. postgres.js only notices a dead idle socket when it next uses it, so the
 * first statement after a server-side kill fails like this even though a reconnect would work.
 */
const LOST_CONNECTION_CODES = new Set(['ECONNRESET', 'EPIPE', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', '57P01', '57P02']);

export function isLostConnection(err: unknown): boolean {
  const code = err instanceof StorageError ? err.code : codeOf(err);
  return code !== undefined && LOST_CONNECTION_CODES.has(code);
}

/** PostgreSQL's complaint when a row's event_ts has no daily partition yet (SQLSTATE 23514). */
export function isMissingPartition(err: unknown): boolean {
  const code = err instanceof StorageError ? err.code : codeOf(err);
  const msg = err instanceof Error ? err.message : '';
  return code === '23514' && /no partition of relation/i.test(msg);
}

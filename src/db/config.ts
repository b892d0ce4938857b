/**
 * Turns a bad DATABASE_URL / PGLITE_DIR into a one-line ConfigError that says what is wrong and
 * how to fix it. Never echoes a password: messages only show scheme, host, port and database.
 */
import { ConfigError, errorText } from '../core/errors.js';
import { redactText } from '../core/logger.js';

const FIX = 'fix DATABASE_URL (postgres://user:password@host:5432/dbname) or unset it to use the embedded database';

/** Where a URL points, without credentials: host:port/db. */
export function describeTarget(url: URL): string {
  return `${url.hostname || 'localhost'}:${url.port || '5432'}${url.pathname && url.pathname !== '/' ? url.pathname : ''}`;
}

/** Parses DATABASE_URL or throws a ConfigError. The raw string is never quoted: it may hold a password. */
export function parseDatabaseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ConfigError(`DATABASE_URL is not a valid URL: ${FIX}`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new ConfigError(`DATABASE_URL must start with postgres:// or postgresql:// (got ${url.protocol}//): ${FIX}`);
  }
  return url;
}

/** The error when the server cannot be reached or refuses us (bad host, port, password, database). */
export function unreachableDatabase(url: URL, err: unknown): ConfigError {
  const code = err && typeof err === 'object' && 'code' in err ? String((err as { code: unknown }).code) : '';
  const errs = err instanceof AggregateError ? err.errors : [err];
  const detail = errs.map((e) => errorText(e)).find((m) => m) ?? 'unknown error';
  const reason = redactText(`${code && !detail.includes(code) ? `${code} ` : ''}${detail}`).replace(/\s+/g, ' ').slice(0, 200);
  return new ConfigError(`DATABASE_URL: cannot connect to PostgreSQL at ${describeTarget(url)} (${reason}): start the server or ${FIX}`);
}

export function unusablePgliteDir(dir: string, err: unknown): ConfigError {
  if (err instanceof ConfigError) return err;
  const detail = errorText(err).replace(/\s+/g, ' ').slice(0, 200);
  return new ConfigError(`PGLITE_DIR: cannot open the embedded database in ${dir} (${detail}): point PGLITE_DIR at a writable folder, or set DATABASE_URL`);
}

import pino, { type Logger, type LoggerOptions } from 'pino';
import pinoPretty from 'pino-pretty';

export type { Logger };

/**
 * Paths pino redacts. Anything secret-shaped is listed at the top level and one or two
 * levels down, because pino's redact paths do not support recursive wildcards.
 */
const SECRET_KEYS = [
  'token', 'accessToken', 'access_token', 'refreshToken', 'refresh_token', 'clientSecret',
  'client_secret', 'secret', 'password', 'passwd', 'authorization', 'Authorization',
  'cookie', 'Cookie', 'set-cookie', 'apiToken', 'API_TOKEN', 'TASTY_CLIENT_SECRET',
  'TASTY_REFRESH_TOKEN', 'DATABASE_URL', 'databaseUrl', 'session',
];

export const REDACT_PATHS = [
  ...SECRET_KEYS,
  ...SECRET_KEYS.map((k) => `*.${k}`),
  ...SECRET_KEYS.map((k) => `*.*.${k}`),
  'req.headers.authorization',
  'req.headers.cookie',
];

/** Strips credentials from a URL-ish string (postgres://user:pass@host → postgres://user:***@host). */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):([^@]*)@/, '//$1:***@');
}

/** Removes secret-shaped substrings from free text, e.g. error messages that echo a URL or a header. */
export function redactText(text: string): string {
  return redactUrl(text)
    .replace(/(bearer\s+)[A-Za-z0-9._~+/=-]+/gi, '$1***')
    .replace(/((?:token|secret|password|api)=)[^&\s;]+/gi, '$1***');
}

export interface LoggerFactoryOptions {
  level?: string;
  name?: string;
  /** Force pretty (true) or JSON (false); default: pretty only when stderr is a TTY and not CI. */
  pretty?: boolean;
  destination?: pino.DestinationStream;
}

export function createLogger(opts: LoggerFactoryOptions = {}): Logger {
  const level = opts.level ?? process.env.LOG_LEVEL ?? 'info';
  const pretty = opts.pretty ?? (Boolean(process.stderr.isTTY) && !process.env.CI);
  const options: LoggerOptions = {
    level,
    name: opts.name,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
  };
  if (opts.destination) return pino(options, opts.destination);
  if (pretty) {
    // In-thread pretty stream (no transport thread): cheap enough for the few lines we log.
    return pino(options, pinoPretty({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  // Logs go to stderr so that stdout stays clean for --json / --csv output.
  return pino(options, pino.destination({ dest: 2, sync: false }));
}

/**
 * Who may talk to the API. On a loopback address the API is open unless API_TOKEN is set;
 * any other address (0.0.0.0, a LAN address, ::) requires API_TOKEN, and then every route,
 * /metrics included, needs `Authorization: Bearer <token>` (see specs/api.md).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { ConfigError } from '../core/errors.js';

export const MIN_TOKEN_LENGTH = 16;

export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/** Throws a one-line ConfigError when binding `host` with this token would be unsafe. */
export function checkBind(host: string, token: string | undefined): void {
  const t = token?.trim();
  if (t && t.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(`API_TOKEN is too short: use at least ${MIN_TOKEN_LENGTH} random characters (e.g. openssl rand -hex 24)`);
  }
  if (!isLoopback(host) && !t) {
    throw new ConfigError(`--host=${host} is not a loopback address: set API_TOKEN (clients then send Authorization: Bearer <token>) or bind 127.0.0.1`);
  }
}

/** A constant-time check of an Authorization header against the token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const m = header?.match(/^Bearer\s+(\S+)\s*$/i);
  if (!m) return false;
  // Hash both sides so the comparison is constant-time whatever the lengths.
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(m[1]), digest(token));
}

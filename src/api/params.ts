/**
 * User input (CLI flags and HTTP query strings) → query objects. Pure. Every failure is a
 * ConfigError whose one-line message names the parameter and what would be accepted; the CLI
 * turns it into exit 2, the API into a 400. `label` is how the caller spells the parameter
 * (`--since` on the command line, `since` in a query string).
 */
import { ConfigError } from '../core/errors.js';
import { resolveTimelineRange, TimelineRangeError, type TimelineQuery } from '../db/timeline.js';
import { MAX_LIMIT } from '../db/snapshots.js';

export type RawParams = Record<string, string | boolean | undefined>;

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** The longest duration accepted anywhere (10 years): beyond it times leave what the database can store. */
export const MAX_DURATION_DAYS = 3650;
/** Instants are accepted from the epoch to the end of year 9999 (ISO-8601's four-digit years). */
export const MAX_INSTANT_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/** 500ms, 30s, 5m, 2h, 1d (a bare number means seconds, as everywhere in the CLI). */
export function parseDuration(raw: string | boolean, label: string): number {
  const m = String(raw).trim().match(/^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/);
  const ms = m ? Number(m[1]) * UNIT_MS[(m[2] ?? 's') as keyof typeof UNIT_MS] : NaN;
  if (!m || !(ms > 0)) throw new ConfigError(`${label}=${String(raw)} is not a duration: use 30s, 5m, 2h, 1d (or seconds)`);
  if (ms > MAX_DURATION_DAYS * UNIT_MS.d) throw new ConfigError(`${label}=${String(raw)} is too long: use at most ${MAX_DURATION_DAYS}d`);
  return ms;
}

/** An instant as ISO-8601 (2025-01-02T15:00:00Z; no offset = UTC) or epoch milliseconds. */
export function parseInstant(raw: string | boolean, label: string): number {
  const text = String(raw).trim();
  let ms = NaN;
  if (/^\d{1,16}$/.test(text)) ms = Number(text);
  // A wall time without an offset is read as UTC, never as this machine's local time.
  else if (/^\d{4}-\d{2}-\d{2}/.test(text)) ms = Date.parse(/T\d{2}:\d{2}/.test(text) && !/(Z|[+-]\d{2}:?\d{2})$/i.test(text) ? `${text}Z` : text);
  if (Number.isFinite(ms) && !/^\d+$/.test(text) && !isCalendarDate(text.slice(0, 10))) ms = NaN; // Date.parse rolls Feb 30 into March
  if (!Number.isFinite(ms)) throw new ConfigError(`${label}=${text} is not a time: use ISO-8601 (2025-01-02T15:00:00Z) or epoch milliseconds`);
  if (ms < 0 || ms > MAX_INSTANT_MS) throw new ConfigError(`${label}=${text} is out of range: use a time from 1970-01-01 to 9999-12-31`);
  return ms;
}

function isCalendarDate(ymd: string): boolean {
  const [y, m, d] = ymd.split('-').map(Number);
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}

/**
 * The attribution interval: `since` and `until` each a duration back from now (1d, 2h) or an
 * instant (ISO-8601 / epoch ms); until defaults to now; since is required.
 */
export function attributionRangeFrom(since: string | boolean | undefined, until: string | boolean | undefined, now: number, name: (key: string) => string): { t0: number; t1: number } {
  if (since === undefined || since === true || since === '') throw new ConfigError(`${name('since')} is missing: give the interval start, e.g. ${name('since')}=1d or an ISO time`);
  const at = (raw: string | boolean, key: string) => (/^\d+(?:\.\d+)?(ms|s|m|h|d)$/.test(String(raw).trim()) ? now - parseDuration(raw, name(key)) : parseInstant(raw, name(key)));
  const t0 = at(since, 'since');
  const t1 = until === undefined ? now : at(until, 'until');
  if (t1 <= t0) throw new ConfigError(`the interval is empty: ${name('until')} must be after ${name('since')}`);
  return { t0, t1 };
}

/** A comma list (SPY,QQQ); undefined when absent. */
export function parseList(raw: string | boolean | undefined, label: string): string[] | undefined {
  if (raw === undefined) return undefined;
  const items = String(raw).split(',').map((s) => s.trim()).filter(Boolean);
  if (raw === true || items.length === 0) throw new ConfigError(`${label} needs a value (one, or a comma list)`);
  return items;
}

export function parseLimit(raw: string | boolean | undefined, label: string, dflt: number, max = MAX_LIMIT): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (raw === true || !Number.isInteger(n) || n < 1 || n > max) throw new ConfigError(`${label}=${String(raw)} is not valid: use a whole number from 1 to ${max}`);
  return n;
}

/** A single text filter (broker, account, contract_key): present and non-empty, or absent. */
export function parseText(raw: string | boolean | undefined, label: string): string | undefined {
  if (raw === undefined) return undefined;
  if (raw === true || String(raw).trim() === '') throw new ConfigError(`${label} needs a value`);
  return String(raw).trim();
}

export function parseBool(raw: string | boolean | undefined, label: string): boolean {
  if (raw === undefined || raw === false) return false;
  if (raw === true || raw === '' || raw === '1' || raw === 'true') return true;
  if (raw === '0' || raw === 'false') return false;
  throw new ConfigError(`${label}=${raw} is not valid: use true or false`);
}

export const TIMELINE_DEFAULTS = { sinceMs: 3_600_000, bucketMs: 60_000, staleMs: 15 * 60_000 };

/**
 * The timeline's parameters, the same for `npm run timeline` and GET /v1/risk/timeline:
 * since | from [to], bucket, stale, account, underlying, broker, all-accounts.
 * `name(key)` spells a parameter the caller's way for messages.
 */
export function timelineQueryFrom(p: RawParams, now: number, name: (key: string) => string): TimelineQuery {
  if (p.since !== undefined && (p.from !== undefined || p.to !== undefined)) {
    throw new ConfigError(`${name('since')} and ${name('from')}/${name('to')} exclude each other: use one way to give the range`);
  }
  if (p.to !== undefined && p.from === undefined) throw new ConfigError(`${name('to')} needs ${name('from')}`);
  const to = p.to !== undefined ? parseInstant(p.to, name('to')) : now;
  const from = p.from !== undefined ? parseInstant(p.from, name('from')) : to - (p.since !== undefined ? parseDuration(p.since, name('since')) : TIMELINE_DEFAULTS.sinceMs);
  const bucketMs = p.bucket !== undefined ? parseDuration(p.bucket, name('bucket')) : TIMELINE_DEFAULTS.bucketMs;
  const staleMs = p.stale !== undefined ? parseDuration(p.stale, name('stale')) : TIMELINE_DEFAULTS.staleMs;
  if (from < 0) throw new ConfigError(`the range starts before 1970-01-01: use a shorter ${p.since !== undefined ? name('since') : name('from')}`);
  try {
    resolveTimelineRange(from, to, bucketMs);
  } catch (err) {
    throw err instanceof TimelineRangeError ? new ConfigError(err.message) : err;
  }
  return {
    from, to, bucketMs, staleMs,
    accounts: parseList(p.account, name('account')),
    underlyings: parseList(p.underlying, name('underlying'))?.map((u) => u.toUpperCase()),
    brokers: parseList(p.broker, name('broker')),
    allAccounts: parseBool(p['all-accounts'] ?? p.all_accounts, name('all-accounts')),
  };
}

/**
 * Display time zones (`--tz`, risk.md "Time": UTC by default, never two zones in one view). Pure.
 * Only tables change: JSON, CSV and the API stay ISO-8601 UTC. Day P&L is always measured
 * against the 16:00 New York close, whatever the display zone.
 */
import { ConfigError } from './errors.js';

const formats = new Map<string, Intl.DateTimeFormat>();

function formatOf(tz: string): Intl.DateTimeFormat {
  let f = formats.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formats.set(tz, f);
  }
  return f;
}

/** The zone named by --tz (IANA name such as America/New_York, or UTC); one-line error otherwise. */
export function parseTz(raw: string | boolean | undefined, label = '--tz'): string | undefined {
  if (raw === undefined) return undefined;
  const tz = typeof raw === 'string' ? raw.trim() : '';
  if (!tz) throw new ConfigError(`${label} needs a zone name, e.g. ${label}=America/New_York`);
  try {
    formatOf(tz);
  } catch {
    throw new ConfigError(`${label}=${tz} is not a time zone: use an IANA name such as America/New_York, Europe/London or UTC`);
  }
  return tz;
}

/** Milliseconds the zone is ahead of UTC at `ms` (negative west of Greenwich). */
export function tzOffsetMs(ms: number, tz: string | undefined): number {
  if (!tz || tz === 'UTC') return 0;
  const p = Object.fromEntries(formatOf(tz).formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const wall = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** 'YYYY-MM-DD HH:MM:SSZ' in UTC, or 'YYYY-MM-DD HH:MM:SS-05:00' in the zone. */
export function formatTime(ms: number, tz?: string): string {
  const off = tzOffsetMs(ms, tz);
  const text = new Date(ms + off).toISOString().replace('T', ' ').replace(/Z$/, '').replace(/\.000$/, '');
  if (!tz || tz === 'UTC') return `${text}Z`;
  const m = Math.round(Math.abs(off) / 60_000);
  return `${text}${off < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

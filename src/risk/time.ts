/**
 * Expiry instants and days to expiry (risk.md "Time"). Pure; `now` is always passed in.
 * Options expire at the US close, 16:00 America/New_York, on their expiry date; AM-settled
 * index monthlies (roots SPX, NDX, RUT, VIX: the weeklies trade as SPXW, NDXP, RUTW, VIXW) at
 * the 09:30 open. DTE = calendar days to that instant, fractional.
 */
const NY = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York', hourCycle: 'h23',
  year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

/** Minutes New York is ahead of UTC at the instant `ms` (−300 in winter, −240 in summer). */
export function nyOffsetMinutes(ms: number): number {
  const parts = Object.fromEntries(NY.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const asUtc = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return Math.round((asUtc - Math.floor(ms / 1000) * 1000) / 60_000);
}

/** The UTC instant of a New York wall-clock time on date 'YYYY-MM-DD'. */
export function nyInstant(date: string, hour: number, minute = 0): number {
  const [y, m, d] = date.split('-').map(Number);
  const wall = Date.UTC(y, m - 1, d, hour, minute);
  let t = wall - nyOffsetMinutes(wall) * 60_000;
  t = wall - nyOffsetMinutes(t) * 60_000; // second pass settles the DST edge
  return t;
}

/** New York calendar date of an instant, 'YYYY-MM-DD'. */
export function nyDate(ms: number): string {
  return new Date(ms + nyOffsetMinutes(ms) * 60_000).toISOString().slice(0, 10);
}

const AM_SETTLED_ROOTS = new Set(['SPX', 'NDX', 'RUT', 'VIX']);

const expiryCache = new Map<string, number>();

/** When an option on `root` expiring on `expiry` (YYYY-MM-DD) settles. Memoised: time-zone math is slow and expiries are few. */
export function expiryInstant(expiry: string, root?: string): number {
  const am = !!root && AM_SETTLED_ROOTS.has(root);
  const key = am ? `${expiry}A` : expiry;
  let t = expiryCache.get(key);
  if (t === undefined) {
    t = am ? nyInstant(expiry, 9, 30) : nyInstant(expiry, 16, 0);
    if (expiryCache.size > 10_000) expiryCache.clear();
    expiryCache.set(key, t);
  }
  return t;
}

export const DAY_MS = 86_400_000;

/** Fractional calendar days from now to the expiry instant (negative once expired). */
export function daysTo(expiryMs: number, now: number): number {
  return (expiryMs - now) / DAY_MS;
}

const addDays = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
const weekday = (date: string) => new Date(`${date}T00:00:00Z`).getUTCDay();

/**
 * The trading session "now" belongs to (New York date; a weekend belongs to the Friday before)
 * and the close day P&L is measured against: 16:00 New York of the weekday before that session.
 * Exchange holidays are not modelled (specs/risk.md).
 */
export function sessionOf(now: number): { session: string; previousClose: { day: string; at: number } } {
  let session = nyDate(now);
  while (weekday(session) === 0 || weekday(session) === 6) session = addDays(session, -1);
  let prev = addDays(session, -1);
  while (weekday(prev) === 0 || weekday(prev) === 6) prev = addDays(prev, -1);
  return { session, previousClose: { day: prev, at: nyInstant(prev, 16, 0) } };
}

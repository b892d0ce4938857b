/**
 * The REST conversation with the gateway: brokerage session, accounts, positions, tickle.
 * Calls are few and sequential (the gateway allows about 10 requests/s in total).
 */
import type { CpapiRest } from './rest.js';
import { RestError } from './rest.js';

export interface AuthStatus {
  authenticated: boolean;
  competing: boolean;
  connected: boolean;
}

export const POSITIONS_PAGE_SIZE = 100;
/** A gateway that never returns a short page must not keep us paging forever. */
const MAX_PAGES = 50;

function readAuth(v: unknown): AuthStatus {
  const o = v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  return { authenticated: o.authenticated === true, competing: o.competing === true, connected: o.connected !== false };
}

export async function authStatus(rest: CpapiRest): Promise<AuthStatus> {
  return readAuth(await rest.post('/iserver/auth/status'));
}

/**
 * Makes sure the brokerage session is authenticated and ours. Returns true when it had to
 * (re)open it with ssodh/init, after which `/iserver/accounts` must be called again.
 */
export async function ensureBrokerageSession(rest: CpapiRest, wait: (ms: number) => Promise<void>, checks = 10): Promise<boolean> {
  const before = await authStatus(rest);
  if (before.authenticated && !before.competing) return false;
  await rest.post('/iserver/auth/ssodh/init', { publish: true, compete: true });
  // A real gateway takes a few seconds to open the brokerage session after ssodh/init.
  for (let i = 0; i < checks; i++) {
    if ((await authStatus(rest)).authenticated) return true;
    if (i < checks - 1) await wait(500);
  }
  throw new RestError('the gateway is not authenticated: log in to the Client Portal gateway in a browser', null);
}

/** GET /iserver/accounts: required once per brokerage session, or market data stays silent. */
export async function primeAccounts(rest: CpapiRest): Promise<string[]> {
  const r = (await rest.get('/iserver/accounts')) as Record<string, unknown> | null;
  return Array.isArray(r?.accounts) ? r.accounts.filter((a): a is string => typeof a === 'string') : [];
}

/** Account ids of /portfolio/accounts, narrowed to `wanted` when given. */
export async function portfolioAccounts(rest: CpapiRest, wanted: string[]): Promise<string[]> {
  const r = await rest.get('/portfolio/accounts');
  const ids = (Array.isArray(r) ? r : [])
    .map((a) => (a && typeof a === 'object' ? String((a as Record<string, unknown>).accountId ?? (a as Record<string, unknown>).id ?? '') : ''))
    .filter(Boolean);
  if (wanted.length === 0) return ids;
  const missing = wanted.filter((w) => !ids.includes(w));
  if (missing.length > 0 && ids.length > 0) throw new RestError(`IBKR_ACCOUNTS names ${missing.join(', ')}, not among this session's accounts`, null);
  return wanted;
}

/** Every raw position row of an account: pages of 100 until a short page. */
export async function fetchPositionRows(rest: CpapiRest, account: string): Promise<unknown[]> {
  const rows: unknown[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const r = await rest.get(`/portfolio/${encodeURIComponent(account)}/positions/${page}`);
    const items = Array.isArray(r) ? r : [];
    rows.push(...items);
    if (items.length < POSITIONS_PAGE_SIZE) break;
  }
  return rows;
}

export interface TickleResult {
  session: string | null;
  /** iserver.authStatus when the gateway included it. */
  auth: AuthStatus | null;
}

export async function tickle(rest: CpapiRest): Promise<TickleResult> {
  const r = (await rest.post('/tickle')) as Record<string, unknown> | null;
  const session = typeof r?.session === 'string' && r.session !== '' ? r.session : null;
  const iserver = r?.iserver as Record<string, unknown> | undefined;
  const auth = iserver && typeof iserver.authStatus === 'object' ? readAuth(iserver.authStatus) : null;
  return { session, auth };
}

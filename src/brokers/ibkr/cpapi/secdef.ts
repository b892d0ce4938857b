/**
 * Watched symbols → Client Portal conids (for `smd` and the REST snapshot):
 *  - equities and indices: GET /iserver/secdef/search?symbol=SPY&secType=STK|IND, the first
 *    result of that security type (else the first result);
 *  - OCC options: the underlying's conid, then GET /iserver/secdef/info?conid=…&sectype=OPT&
 *    month=DEC25&strike=…&right=C|P, the contract whose maturityDate is the OCC expiry.
 * Futures and futures options are not resolved here (null): see specs/quotes.md.
 */
import { parseOcc } from '../../../core/contract.js';
import type { WatchSymbol } from '../../../quotes/symbols.js';
import { KNOWN_INDICES } from '../../../quotes/symbols.js';
import type { CpapiRest } from './rest.js';

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

const rec = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' ? (v as Record<string, unknown>) : {});

export async function searchConid(rest: CpapiRest, symbol: string, secType: 'STK' | 'IND'): Promise<number | null> {
  const r = await rest.get(`/iserver/secdef/search?symbol=${encodeURIComponent(symbol)}&secType=${secType}`);
  const list = (Array.isArray(r) ? r : []).map(rec).filter((x) => String(x.symbol ?? '').toUpperCase() === symbol.toUpperCase() || x.symbol === undefined);
  const typed = list.find((x) => Array.isArray(x.sections) && x.sections.some((s) => rec(s).secType === secType));
  const pick = typed ?? list[0];
  const conid = Number(pick?.conid);
  return Number.isInteger(conid) && conid > 0 ? conid : null;
}

export async function resolveConid(rest: CpapiRest, w: WatchSymbol, indices: ReadonlySet<string> = KNOWN_INDICES): Promise<number | null> {
  if (w.kind === 'equity' || w.kind === 'index') return searchConid(rest, w.symbol, w.kind === 'index' ? 'IND' : 'STK');
  if (w.kind !== 'option') return null;
  const c = parseOcc(w.symbol);
  const und = await searchConid(rest, w.underlying, indices.has(w.underlying) ? 'IND' : 'STK');
  if (und === null) return null;
  const [y, m, d] = c.expiry.split('-');
  const month = `${MONTHS[Number(m) - 1]}${y.slice(2)}`;
  const r = await rest.get(`/iserver/secdef/info?conid=${und}&sectype=OPT&month=${month}&strike=${c.strike}&right=${c.right}`);
  const hit = (Array.isArray(r) ? r : []).map(rec).find((x) => String(x.maturityDate ?? '') === `${y}${m}${d}`);
  const conid = Number(hit?.conid);
  return Number.isInteger(conid) && conid > 0 ? conid : null;
}

/**
 * IBKR REST quotes over the Client Portal gateway: GET /iserver/marketdata/snapshot?conids=…&
 * fields=…. The first call for a conid is a pre-flight (it answers only conid/conidEx and starts
 * the gateway's stream); the values come from the next call, so a batch with a conid never
 * asked before makes two calls, the second one paced like any other. The brokerage session is
 * checked (and /iserver/accounts primed, without which market data stays silent) before the
 * first call. Conids come from secdef (cpapi/secdef.ts), cached per symbol.
 */
import type { Clock } from '../core/clock.js';
import { sleep } from '../core/clock.js';
import type { QuoteRow } from '../core/types.js';
import type { IbkrConfig } from '../brokers/ibkr/config.js';
import { FIELD, parseGreek, parseIv, parsePrice } from '../brokers/ibkr/cpapi/fields.js';
import { createRest, RestError, type CpapiRest } from '../brokers/ibkr/cpapi/rest.js';
import { resolveConid } from '../brokers/ibkr/cpapi/secdef.js';
import { ensureBrokerageSession, primeAccounts } from '../brokers/ibkr/cpapi/session.js';
import { QuoteRestError, type RestQuoteFetcher } from './restQueue.js';

export const SNAPSHOT_FIELDS = [FIELD.last, FIELD.bid, FIELD.ask, FIELD.mark, FIELD.delta, FIELD.gamma, FIELD.theta, FIELD.vega, FIELD.iv];

const asQuoteError = (err: unknown): QuoteRestError =>
  err instanceof QuoteRestError ? err : new QuoteRestError(err instanceof Error ? err.message : String(err), err instanceof RestError ? err.status : null);

/** One snapshot item → a `quotes` row (null when it carries no price yet: a pre-flight answer). */
export function snapshotItemToRow(item: unknown, symbol: string, receivedAt: number): QuoteRow | null {
  if (!item || typeof item !== 'object') return null;
  const it = item as Record<string, unknown>;
  const bid = parsePrice(it[FIELD.bid]);
  const ask = parsePrice(it[FIELD.ask]);
  const last = parsePrice(it[FIELD.last]);
  const mark = parsePrice(it[FIELD.mark]);
  if (bid === null && ask === null && last === null && mark === null) return null;
  const mid = bid !== null && ask !== null && ask >= bid ? Math.round(((bid + ask) / 2) * 1e9) / 1e9 : null;
  const updated = Number(it._updated);
  return {
    symbol, broker: 'ibkr', source: 'rest', bid, ask, mid, mark: mark ?? mid, last,
    eventTs: Number.isFinite(updated) && updated > 0 ? updated : receivedAt, receivedAt,
    iv: parseIv(it[FIELD.iv]), delta: parseGreek(it[FIELD.delta]), gamma: parseGreek(it[FIELD.gamma]), theta: parseGreek(it[FIELD.theta]), vega: parseGreek(it[FIELD.vega]),
  };
}

export function createIbkrQuoteFetcher(config: IbkrConfig, clock: Clock, rest?: CpapiRest): RestQuoteFetcher {
  const r = rest ?? createRest(config.gatewayUrl, config.tlsInsecure, { clock });
  let session: Promise<void> | null = null;
  const conids = new Map<string, number>();
  const primed = new Set<number>();
  const ready = () => (session ??= (async () => {
    await ensureBrokerageSession(r, (ms) => sleep(clock, ms));
    await primeAccounts(r);
  })().catch((err: unknown) => {
    session = null;
    throw err;
  }));
  return {
    broker: 'ibkr',
    maxSymbolsPerCall: 100,
    async fetch(symbols, pace) {
      try {
        await ready();
        const bySymbol = new Map<number, string>();
        for (const s of symbols) {
          let conid = conids.get(s.symbol);
          if (conid === undefined) {
            const c = await resolveConid(r, s);
            if (c === null) continue;
            conids.set(s.symbol, (conid = c));
          }
          bySymbol.set(conid, s.symbol);
        }
        if (bySymbol.size === 0) return [];
        const path = `/iserver/marketdata/snapshot?conids=${[...bySymbol.keys()].join(',')}&fields=${SNAPSHOT_FIELDS.join(',')}`;
        let body = await r.get(path);
        const fresh = [...bySymbol.keys()].filter((c) => !primed.has(c));
        if (fresh.length > 0) {
          // That was the pre-flight for these conids: the values come with the next call.
          for (const c of fresh) primed.add(c);
          await pace();
          body = await r.get(path);
        }
        const now = clock.now();
        const out: QuoteRow[] = [];
        for (const item of Array.isArray(body) ? body : []) {
          const symbol = bySymbol.get(Number((item as Record<string, unknown>)?.conid));
          const row = symbol ? snapshotItemToRow(item, symbol, now) : null;
          if (row) out.push(row);
        }
        return out;
      } catch (err) {
        throw asQuoteError(err);
      }
    },
    close: () => r.close(),
  };
}

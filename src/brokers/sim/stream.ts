import { defaultContracts, SimMarket, simContractKey } from '../simbook.js';
import { emptyHealth, type BrokerStream, type StreamContext, type StreamHealth } from '../types.js';
import type { Position } from '../../core/types.js';
import type { TimerHandle } from '../../core/clock.js';
import { maybe, SentLedger, startTicker, type Ticker } from '../simkit/index.js';
import type { SimConfig } from './config.js';

/**
 * The synthetic broker: a few accounts holding the default book, greeks and quotes at a fixed
 * rate. Updates travel as JSON text frames and are parsed back, so the actor pays a realistic
 * parse cost and malformed frames take the same path a real broker's would.
 * Frame: {"t":"g","d":[[contractIndex, eventTs, seq, iv, delta, gamma, theta, vega, rho, bid, ask, spot], ...]}
 */
export function createSimStream(cfg: SimConfig, ctx: StreamContext): BrokerStream {
  const broker = 'sim';
  const contracts = defaultContracts(ctx.clock.now());
  const keys = contracts.map(simContractKey);
  const market = new SimMarket(contracts, cfg.seed);
  const rand = () => market.random();
  const seqs = new Array<number>(contracts.length).fill(0);
  const health: StreamHealth = emptyHealth();
  // The ledger counts the unique updates sent (each is unique by construction: no keys kept).
  const ledger = new SentLedger<number[]>(undefined, false);
  const sent = { duplicatesSent: 0, outOfOrderSent: 0, malformedSent: 0 };
  let ticker: Ticker | undefined;
  let crashTimer: TimerHandle | undefined;
  let next = 0;
  let carry = 0;

  const all = Array.from({ length: cfg.accounts }, (_, i) => `SIM-${i + 1}`);
  // ingest --cluster: one account per actor; its greeks name the account so they reach only its positions
  const accounts = cfg.onlyAccount ? all.filter((a) => a === cfg.onlyAccount) : all;
  const index = (account: string) => all.indexOf(account);
  const positionsOf = (account: string, a: number): Position[] =>
    contracts.map((c, j) => ({
      broker, account, contractKey: keys[j], underlying: c.underlying,
      quantity: ((a + j) % 5) - 2 || 1, multiplier: c.multiplier, avgPrice: 1 + j, assetClass: 'option' as const,
    }));

  const setState = (state: StreamHealth['state'], reason?: string) => {
    health.state = state;
    ctx.emit({ kind: 'state', broker, at: ctx.clock.now(), state, reason });
  };

  function produceFrame(n: number): string {
    const now = ctx.clock.now();
    const rows: number[][] = [];
    for (let k = 0; k < n; k++) {
      if (cfg.count > 0 && ledger.size >= cfg.count) break;
      const i = next++ % contracts.length;
      const g = market.step(i, now);
      const late = maybe(rand, cfg.ooo);
      if (late) sent.outOfOrderSent++;
      const ts = late ? now - 1 - Math.floor(market.random() * 5000) : now;
      const spread = Math.max(0.01, g.price * 0.02);
      const row = [i, ts, ++seqs[i], g.iv, g.delta, g.gamma, g.theta, g.vega, g.rho, g.price - spread / 2, g.price + spread / 2, market.spotOf(contracts[i].underlying)];
      rows.push(row);
      ledger.record(row);
      if (maybe(rand, cfg.dup)) {
        rows.push(row);
        sent.duplicatesSent++;
      }
    }
    return JSON.stringify({ t: 'g', d: rows });
  }

  function consume(frame: string): void {
    const receivedAt = ctx.clock.now();
    health.lastMessageAt = receivedAt;
    let msg: { t?: unknown; d?: unknown };
    try {
      msg = JSON.parse(frame);
    } catch {
      health.malformed++;
      ctx.emit({ kind: 'malformed', broker, at: receivedAt, reason: 'frame is not JSON' });
      return;
    }
    if (msg.t !== 'g' || !Array.isArray(msg.d)) {
      health.malformed++;
      ctx.emit({ kind: 'malformed', broker, at: receivedAt, reason: 'unknown frame type' });
      return;
    }
    const spots = new Map<string, { ts: number; spot: number }>();
    for (const r of msg.d as number[][]) {
      const c = contracts[r[0]];
      if (!c) continue;
      spots.set(c.underlying, { ts: r[1], spot: r[11] });
      ctx.emit({
        kind: 'greeks', broker, contractKey: keys[r[0]], underlying: c.underlying, eventTs: r[1], seq: r[2], receivedAt, ...(cfg.onlyAccount ? { account: cfg.onlyAccount } : {}),
        iv: r[3], delta: r[4], gamma: r[5], theta: r[6], vega: r[7], rho: r[8], bid: r[9], ask: r[10], underlyingPrice: r[11],
      });
    }
    // One underlying quote per frame, as a feed conflates them, not one per option update.
    for (const [key, q] of spots) ctx.emit({ kind: 'quote', broker, key, eventTs: q.ts, receivedAt, bid: q.spot - 0.01, ask: q.spot + 0.01 });
    if (msg.d.length > 0) health.lastEventAt = receivedAt;
  }

  /** Watched tickers (WATCHLIST): one quote each per tick at the market's spot (100 when unknown). */
  let watched: string[] = [];
  function quoteWatched(now: number): void {
    for (const key of watched) {
      const spot = market.spotOf(key);
      ctx.emit({ kind: 'quote', broker, key, eventTs: now, receivedAt: now, bid: +(spot - 0.01).toFixed(2), ask: +(spot + 0.01).toFixed(2) });
    }
    if (watched.length > 0) health.lastEventAt = now;
  }

  function tick(now: number, sinceLastMs: number): void {
    // Paced by elapsed time, not by tick count: a late timer on a busy machine still offers the configured rate.
    if (ctx.paused?.()) {
      // Back-pressure: produce nothing, and owe nothing for the pause (a closed loop would
      // otherwise make up for it in one giant frame). Sequence numbers stay contiguous.
      carry = 0;
      return;
    }
    carry += (cfg.rate * Math.min(1000, sinceLastMs)) / 1000;
    const n = Math.floor(carry);
    carry -= n;
    if (n > 0) consume(produceFrame(n));
    quoteWatched(now);
    if (maybe(rand, cfg.malformed)) {
      sent.malformedSent++;
      consume('{"t":"g","d":[[0,1,');
    }
  }

  return {
    pausable: true,
    async start() {
      setState('connecting');
      accounts.forEach((account) => ctx.emit({ kind: 'positions', broker, account, at: ctx.clock.now(), positions: positionsOf(account, index(account)) }));
      health.subscriptions = contracts.length;
      setState('connected');
      ctx.log.info({ rate: cfg.rate, accounts: cfg.accounts, contracts: contracts.length }, 'sim market streaming');
      ticker = startTicker({ clock: ctx.clock, periodMs: cfg.tickMs, onTick: tick });
      if (cfg.crashAfter > 0) {
        crashTimer = ctx.clock.setTimeout(() => {
          throw new Error('sim: crash requested by --crash-after');
        }, cfg.crashAfter * 1000);
      }
    },
    async stop() {
      ticker?.stop();
      ctx.clock.clearTimeout(crashTimer);
      ticker = undefined;
      setState('stopped');
    },
    async resubscribe() {
      accounts.forEach((account) => ctx.emit({ kind: 'positions', broker, account, at: ctx.clock.now(), positions: positionsOf(account, index(account)) }));
    },
    health: () => ({ ...health, details: { uniqueGreeks: ledger.size, ...sent, accounts: cfg.accounts, contracts: contracts.length, watched: watched.length } }),
    // Tickers only: the synthetic market has no other instruments (options, futures are ignored).
    async setWatchlist(symbols) {
      watched = symbols.filter((w) => w.kind === 'equity' || w.kind === 'index').map((w) => w.symbol);
    },
  };
}

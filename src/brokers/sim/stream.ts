import { defaultContracts, SimMarket, simContractKey } from '../simbook.js';
import { emptyHealth, type BrokerStream, type StreamContext, type StreamHealth } from '../types.js';
import type { Position } from '../../core/types.js';
import type { TimerHandle } from '../../core/clock.js';
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
  const seqs = new Array<number>(contracts.length).fill(0);
  const health: StreamHealth = emptyHealth();
  const sent = { uniqueGreeks: 0, duplicatesSent: 0, outOfOrderSent: 0, malformedSent: 0 };
  let timer: TimerHandle | undefined;
  let crashTimer: TimerHandle | undefined;
  let next = 0;
  let carry = 0;

  const accounts = Array.from({ length: cfg.accounts }, (_, i) => `SIM-${i + 1}`);
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
      if (cfg.count > 0 && sent.uniqueGreeks >= cfg.count) break;
      const i = next++ % contracts.length;
      const g = market.step(i, now);
      const late = cfg.ooo > 0 && market.random() < cfg.ooo;
      if (late) sent.outOfOrderSent++;
      const ts = late ? now - 1 - Math.floor(market.random() * 5000) : now;
      const spread = Math.max(0.01, g.price * 0.02);
      const row = [i, ts, ++seqs[i], g.iv, g.delta, g.gamma, g.theta, g.vega, g.rho, g.price - spread / 2, g.price + spread / 2, market.spotOf(contracts[i].underlying)];
      rows.push(row);
      sent.uniqueGreeks++;
      if (cfg.dup > 0 && market.random() < cfg.dup) {
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
        kind: 'greeks', broker, contractKey: keys[r[0]], underlying: c.underlying, eventTs: r[1], seq: r[2], receivedAt,
        iv: r[3], delta: r[4], gamma: r[5], theta: r[6], vega: r[7], rho: r[8], bid: r[9], ask: r[10], underlyingPrice: r[11],
      });
    }
    // One underlying quote per frame, as a feed conflates them, not one per option update.
    for (const [key, q] of spots) ctx.emit({ kind: 'quote', broker, key, eventTs: q.ts, receivedAt, bid: q.spot - 0.01, ask: q.spot + 0.01 });
    if (msg.d.length > 0) health.lastEventAt = receivedAt;
  }

  let lastTick = 0;
  function tick(): void {
    // Paced by elapsed time, not by tick count: a late timer on a busy machine still offers the configured rate.
    const now = ctx.clock.now();
    if (ctx.paused?.()) {
      // Back-pressure: produce nothing, and owe nothing for the pause (a closed loop would
      // otherwise make up for it in one giant frame). Sequence numbers stay contiguous.
      lastTick = now;
      carry = 0;
      return;
    }
    carry += (cfg.rate * Math.min(1000, now - lastTick)) / 1000;
    lastTick = now;
    const n = Math.floor(carry);
    carry -= n;
    if (n > 0) consume(produceFrame(n));
    if (cfg.malformed > 0 && market.random() < cfg.malformed) {
      sent.malformedSent++;
      consume('{"t":"g","d":[[0,1,');
    }
  }

  return {
    pausable: true,
    async start() {
      setState('connecting');
      accounts.forEach((account, a) => ctx.emit({ kind: 'positions', broker, account, at: ctx.clock.now(), positions: positionsOf(account, a) }));
      health.subscriptions = contracts.length;
      setState('connected');
      ctx.log.info({ rate: cfg.rate, accounts: cfg.accounts, contracts: contracts.length }, 'sim market streaming');
      lastTick = ctx.clock.now();
      timer = ctx.clock.setInterval(tick, cfg.tickMs);
      if (cfg.crashAfter > 0) {
        crashTimer = ctx.clock.setTimeout(() => {
          throw new Error('sim: crash requested by --crash-after');
        }, cfg.crashAfter * 1000);
      }
    },
    async stop() {
      ctx.clock.clearInterval(timer);
      ctx.clock.clearTimeout(crashTimer);
      timer = undefined;
      setState('stopped');
    },
    async resubscribe() {
      accounts.forEach((account, a) => ctx.emit({ kind: 'positions', broker, account, at: ctx.clock.now(), positions: positionsOf(account, a) }));
    },
    health: () => ({ ...health, details: { ...sent, accounts: cfg.accounts, contracts: contracts.length } }),
  };
}

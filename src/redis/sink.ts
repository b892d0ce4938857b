/**
 * Optional Redis fan-out (REDIS_URL, issue 12 item 3): the latest price per symbol, the latest
 * Greeks per contract, the risk summary and unrealized P&L per position, for services that read
 * Redis instead of PostgreSQL.
 *
 *   price:{symbol}        JSON {price, bid, ask, timestamp}            TTL 300 s (the seed's names)
 *   price.updated         pub/sub {symbol, price}                      once per symbol per flush
 *   greeks:{contract_key} JSON latest per-contract Greeks and prices   TTL 300 s
 *   risk:summary          JSON /v1/risk/summary document               TTL 300 s
 *   risk:pnl              hash {broker}|{account}|{contract_key} → JSON {unrealized_pnl, ...}, replaced whole
 *   risk.updated          pub/sub {as_of, totals}                      once per risk refresh
 *
 * Conflated and pipelined: an update only replaces the pending value of its key (one map entry
 * per key); a flush every `flushMs` (250) sends every pending key in one pipeline. Nothing
 * here is awaited by the processor: offer*() are synchronous map writes. While Redis is
 * unavailable the flush sends nothing (no offline queue: a command is never buffered inside
 * the client), updates superseded meanwhile are counted as dropped, and on reconnect the whole
 * latest state is written again (remaining TTL kept), so a Redis that restarted empty catches up.
 * At most one pipeline is in flight; a slow Redis delays the next flush, never the record.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.js';

export interface PriceUpdate {
  symbol: string;
  price: number;
  bid: number | null;
  ask: number | null;
  /** Epoch ms of the quote (event time). */
  at: number;
}

export interface GreeksUpdate {
  broker: string;
  account: string;
  contractKey: string;
  underlying: string;
  bid: number | null;
  ask: number | null;
  mark: number | null;
  underlyingPrice: number | null;
  iv: number | null;
  delta: number | null;
  gamma: number | null;
  theta: number | null;
  vega: number | null;
  rho: number | null;
  eventTs: number;
}

/** What the risk engine hands over: the summary document and per-position P&L fields. */
export interface RiskUpdate {
  asOf: number;
  summary: unknown;
  totals: unknown;
  positions: Array<{ broker: string; account: string; contract_key: string } & Record<string, unknown>>;
}

export interface RedisSinkOptions {
  url: string;
  clock: Clock;
  log: Logger;
  /** Prepended to every key and channel (tests: a unique prefix on the shared server). Default none. */
  prefix?: string;
  flushMs?: number;
  ttlS?: number;
  /** Per-command timeout (ms): a blackholed Redis fails the flush instead of hanging it. */
  commandTimeoutMs?: number;
  /** Keys kept at most (latest state); past it new keys are dropped and counted. */
  maxKeys?: number;
  /** Tests: a client of their own. */
  client?: Redis;
}

export interface RedisSinkStats {
  up: boolean;
  updates: { price: number; greeks: number; risk: number };
  /** Updates replaced by a newer one of the same key before a flush sent them (Redis up). */
  conflated: number;
  /** Updates never sent because Redis was unavailable (superseded during the outage, or past maxKeys). */
  dropped: number;
  keysWritten: number;
  published: number;
  flushes: number;
  flushErrors: number;
  reconnects: number;
  pendingKeys: number;
  lastFlushAt: number | null;
  lastError: string | null;
}

interface Entry {
  /** Key without prefix. */
  key: string;
  value: string;
  /** Clock time the value arrived: the TTL runs from here (a catch-up keeps the remaining TTL). */
  at: number;
  publish?: { channel: string; message: string };
}

const RISK_PNL = 'risk:pnl';
const RISK_SUMMARY = 'risk:summary';

export class RedisSink {
  readonly client: Redis;
  private readonly prefix: string;
  private readonly ttlMs: number;
  private readonly maxKeys: number;
  /** Latest value of every key (what a catch-up rewrites). */
  private readonly latest = new Map<string, Entry>();
  /** Keys whose latest value is not in Redis yet. */
  private readonly dirty = new Set<string>();
  private risk: { entry: RiskUpdate; at: number; dirty: boolean } | null = null;
  private timer: TimerHandle | undefined;
  private inFlight: Promise<void> | null = null;
  private everReady = false;
  private wasDown = false;
  private closed = false;
  private readonly s: RedisSinkStats = {
    up: false, updates: { price: 0, greeks: 0, risk: 0 }, conflated: 0, dropped: 0, keysWritten: 0, published: 0,
    flushes: 0, flushErrors: 0, reconnects: 0, pendingKeys: 0, lastFlushAt: null, lastError: null,
  };

  constructor(private readonly o: RedisSinkOptions) {
    this.prefix = o.prefix ?? '';
    this.ttlMs = (o.ttlS ?? 300) * 1000;
    this.maxKeys = o.maxKeys ?? 200_000;
    this.client = o.client ?? new Redis(o.url, redisOptions(o.commandTimeoutMs ?? 1000));
    this.client.on('ready', () => this.onReady());
    this.client.on('end', () => this.onDown('connection closed'));
    this.client.on('close', () => this.onDown('connection closed'));
    this.client.on('error', (err: Error) => {
      this.s.lastError = redactUrl(err.message);
    });
  }

  /** Connects (in the background: an unreachable Redis never blocks the start) and starts the flush timer. */
  start(): void {
    if (this.client.status === 'wait') this.client.connect().catch((err: Error) => { this.s.lastError = redactUrl(err.message); });
    this.timer = this.o.clock.setInterval(() => void this.flush(), this.o.flushMs ?? 250);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.o.clock.clearInterval(this.timer);
    if (this.inFlight) await this.inFlight.catch(() => undefined);
    // Last state out when Redis is there (bounded by the command timeout), then quit.
    if (this.client.status === 'ready') await this.flush(true).catch(() => undefined);
    this.client.disconnect();
  }

  stats(): RedisSinkStats {
    return { ...this.s, updates: { ...this.s.updates }, pendingKeys: this.dirty.size + (this.risk?.dirty ? 1 : 0) };
  }

  offerPrice(u: PriceUpdate): void {
    this.s.updates.price++;
    const value = JSON.stringify({ price: u.price, bid: u.bid, ask: u.ask, timestamp: new Date(u.at).toISOString() });
    this.put({ key: `price:${u.symbol}`, value, at: this.o.clock.now(), publish: { channel: 'price.updated', message: JSON.stringify({ symbol: u.symbol, price: u.price }) } });
  }

  offerGreeks(g: GreeksUpdate): void {
    this.s.updates.greeks++;
    const value = JSON.stringify({
      broker: g.broker, account: g.account, contract_key: g.contractKey, underlying: g.underlying,
      bid: g.bid, ask: g.ask, mark: g.mark, underlying_price: g.underlyingPrice,
      iv: g.iv, delta: g.delta, gamma: g.gamma, theta: g.theta, vega: g.vega, rho: g.rho,
      timestamp: new Date(g.eventTs).toISOString(),
    });
    this.put({ key: `greeks:${g.contractKey}`, value, at: this.o.clock.now() });
  }

  offerRisk(r: RiskUpdate): void {
    this.s.updates.risk++;
    if (this.risk?.dirty) this.countSuperseded();
    this.risk = { entry: r, at: this.o.clock.now(), dirty: true };
  }

  private put(e: Entry): void {
    const had = this.latest.has(e.key);
    if (!had && this.latest.size >= this.maxKeys) {
      this.s.dropped++;
      return;
    }
    if (this.dirty.has(e.key)) this.countSuperseded();
    this.latest.set(e.key, e);
    this.dirty.add(e.key);
  }

  private countSuperseded(): void {
    if (this.s.up) this.s.conflated++;
    else this.s.dropped++;
  }

  private onReady(): void {
    if (this.everReady) {
      this.s.reconnects++;
      // Catch up: Redis may have restarted empty; everything still within its TTL is written again.
      for (const k of this.latest.keys()) this.dirty.add(k);
      if (this.risk) this.risk.dirty = true;
    }
    if (!this.s.up) this.o.log.info({ reconnects: this.s.reconnects, pendingKeys: this.dirty.size }, this.everReady ? 'redis sink reconnected: writing the latest state' : 'redis sink connected');
    this.everReady = true;
    this.s.up = true;
    this.wasDown = false;
  }

  private onDown(why: string): void {
    if (this.closed) return;
    if (this.s.up || !this.wasDown) {
      this.o.log.warn({ err: this.s.lastError ?? why }, 'redis sink unavailable: dropping and counting until it is back (the database record is not affected)');
    }
    this.s.up = false;
    this.wasDown = true;
  }

  /** One pipeline with every pending key. Skipped while one is in flight or Redis is not ready. */
  flush(force = false): Promise<void> {
    if (this.inFlight) return force ? this.inFlight.then(() => this.flush(false)) : this.inFlight;
    if (this.client.status !== 'ready' || (this.dirty.size === 0 && !this.risk?.dirty)) return Promise.resolve();
    const now = this.o.clock.now();
    const p = this.client.pipeline();
    const sent: Entry[] = [];
    let commands = 0;
    let publishes = 0;
    for (const key of this.dirty) {
      const e = this.latest.get(key)!;
      const ttl = this.ttlMs - (now - e.at);
      if (ttl <= 0) continue; // expired while Redis was away: not resurrected
      p.set(this.prefix + e.key, e.value, 'PX', ttl);
      commands++;
      if (e.publish && now - e.at < (this.o.flushMs ?? 250) * 8 + 1000) {
        // A catch-up after a long outage does not replay old prices as news; recent ones are published.
        p.publish(this.prefix + e.publish.channel, e.publish.message);
        publishes++;
      }
      sent.push(e);
    }
    this.dirty.clear();
    const risk = this.risk?.dirty ? this.risk : null;
    if (risk) {
      risk.dirty = false;
      const ttl = Math.max(1, this.ttlMs - (now - risk.at));
      p.set(this.prefix + RISK_SUMMARY, JSON.stringify(risk.entry.summary), 'PX', ttl);
      const fields: string[] = [];
      for (const pos of risk.entry.positions) fields.push(`${pos.broker}|${pos.account}|${pos.contract_key}`, JSON.stringify(pos));
      if (fields.length > 0) {
        // Replaced whole and atomically: a closed position's field never lingers.
        const tmp = `${this.prefix}${RISK_PNL}:tmp`;
        p.del(tmp);
        p.hset(tmp, ...fields);
        p.pexpire(tmp, ttl);
        p.rename(tmp, this.prefix + RISK_PNL);
      } else {
        p.del(this.prefix + RISK_PNL);
      }
      p.publish(this.prefix + 'risk.updated', JSON.stringify({ as_of: new Date(risk.entry.asOf).toISOString(), totals: risk.entry.totals }));
      commands += 2;
      publishes++;
    }
    if (commands === 0) return Promise.resolve();
    const requeue = (err: string) => {
      this.s.flushErrors++;
      this.s.lastError = err;
      // Not lost: the keys are pending again unless a newer value arrived meanwhile (it is pending already).
      for (const e of sent) if (this.latest.get(e.key) === e) this.dirty.add(e.key);
      if (risk && this.risk === risk) risk.dirty = true;
    };
    this.inFlight = p.exec().then(
      (results) => {
        const failed = (results ?? []).find(([err]) => err);
        if (failed) {
          requeue(redactUrl((failed[0] as Error).message));
          return;
        }
        this.s.flushes++;
        this.s.keysWritten += sent.length + (risk ? 2 : 0);
        this.s.published += publishes;
        this.s.lastFlushAt = this.o.clock.now();
      },
      (err: Error) => requeue(redactUrl(err.message)),
    ).finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }
}

/**
 * No offline queue (a command while disconnected fails at once instead of piling up in memory),
 * no per-command retry, reconnect forever with a capped backoff.
 */
export function redisOptions(commandTimeoutMs: number): RedisOptions {
  return {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 6), 5000),
    enableReadyCheck: true,
  };
}

/** Error texts never carry a password from REDIS_URL. */
function redactUrl(text: string): string {
  return text.replace(/(redis(?:s)?:\/\/)([^@\s]*)@/gi, '$1***@');
}

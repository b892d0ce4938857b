/**
 * The one source of /v1/events for all connected pages. It listens to the processor's
 * latest-state changes (never to the log of ticks), keeps only the newest row per position
 * between flushes, and sends:
 *   greeks  every GREEKS_EVERY_MS at most, the rows that changed since the last flush
 *   status  the /v1/streaming/status document on an actor state change (checked every second)
 *           and every STATUS_EVERY_MS
 *   risk    the risk summary, at most every RISK_EVERY_MS and only when it changed
 *   alert   each alert as the risk engine raises it
 * and, first on every connection, `hello` ({now, risk, alerts}: what this server has).
 * It runs only while at least one page is connected: the first client starts it, the last one
 * leaving stops it, so an API without pages pays nothing. All timers on the Clock.
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { LatestGreeks } from '../../core/processor.js';
import { liveGreeksJson } from '../json.js';
import { alertSourceOf, type AlertJson, type RiskPort } from '../riskPort.js';
import { Conflator } from './conflate.js';
import { errorText } from '../../core/errors.js';

export const GREEKS_EVERY_MS = 500;
export const STATE_POLL_MS = 1000;
export const STATUS_EVERY_MS = 5000;
export const RISK_EVERY_MS = 1000;
export const HEARTBEAT_MS = 15_000;

export interface HubClient {
  send(event: string, data: unknown): boolean;
  heartbeat(): void;
  close(): void;
  onClose(fn: () => void): void;
}

export interface HubSources {
  latest: {
    onLatest(fn: (s: LatestGreeks) => void): () => void;
    latestGreeks(): LatestGreeks[];
  };
  /** The /v1/streaming/status document, and a short string that changes when any actor's state does. */
  status(): { doc: unknown; key: string };
  risk?: RiskPort;
  clock: Clock;
  log: Logger;
}

type GreeksRow = ReturnType<typeof liveGreeksJson>;

export class EventHub {
  private clients = new Set<HubClient>();
  private pending = new Conflator<GreeksRow>();
  private timers: TimerHandle[] = [];
  private unsubscribe: (() => void)[] = [];
  private statusKey = '';
  private lastStatusAt = 0;
  private lastRisk: unknown;
  private lastRiskKey = '';
  private riskBusy = false;
  private riskError = '';

  constructor(private readonly src: HubSources) {}

  get clientCount(): number {
    return this.clients.size;
  }

  /** Adds a page: it gets the full current state at once, then the changes. */
  add(client: HubClient): void {
    if (this.clients.size === 0) this.start();
    this.clients.add(client);
    client.onClose(() => this.remove(client));
    const now = this.src.clock.now();
    // What this server has, so the page asks only for routes that exist (no 404s to explain).
    client.send('hello', { now: new Date(now).toISOString(), risk: !!this.src.risk, alerts: !!alertSourceOf(this.src.risk) });
    client.send('greeks', { now: new Date(now).toISOString(), snapshot: true, rows: this.src.latest.latestGreeks().map(liveGreeksJson) });
    client.send('status', this.src.status().doc);
    if (this.lastRisk !== undefined) client.send('risk', this.lastRisk);
  }

  /** Ends every stream (server shutdown). */
  closeAll(): void {
    for (const c of [...this.clients]) c.close();
    this.clients.clear();
    this.stop();
  }

  private remove(client: HubClient): void {
    if (!this.clients.delete(client)) return;
    if (this.clients.size === 0) this.stop();
  }

  private start(): void {
    const { clock } = this.src;
    this.unsubscribe.push(this.src.latest.onLatest((s) => this.pending.put(`${s.broker}|${s.account}|${s.contractKey}`, liveGreeksJson(s))));
    const alerts = alertSourceOf(this.src.risk);
    if (alerts) this.unsubscribe.push(alerts.onAlert((a: AlertJson) => this.broadcast('alert', a)));
    this.statusKey = this.src.status().key;
    this.lastStatusAt = clock.now();
    this.timers.push(
      clock.setInterval(() => this.flushGreeks(), GREEKS_EVERY_MS),
      clock.setInterval(() => this.checkStatus(), STATE_POLL_MS),
      clock.setInterval(() => this.broadcastHeartbeat(), HEARTBEAT_MS),
    );
    if (this.src.risk) {
      this.timers.push(clock.setInterval(() => void this.refreshRisk(), RISK_EVERY_MS));
      void this.refreshRisk();
    }
  }

  private stop(): void {
    for (const t of this.timers.splice(0)) this.src.clock.clearInterval(t);
    for (const u of this.unsubscribe.splice(0)) u();
    this.pending.take();
    this.lastRisk = undefined;
    this.lastRiskKey = '';
  }

  private broadcast(event: string, data: unknown): void {
    for (const c of this.clients) c.send(event, data);
  }

  private broadcastHeartbeat(): void {
    for (const c of this.clients) c.heartbeat();
  }

  private flushGreeks(): void {
    if (this.pending.size === 0) return;
    this.broadcast('greeks', { now: new Date(this.src.clock.now()).toISOString(), snapshot: false, rows: this.pending.take() });
  }

  private checkStatus(): void {
    const { doc, key } = this.src.status();
    const now = this.src.clock.now();
    if (key === this.statusKey && now - this.lastStatusAt < STATUS_EVERY_MS) return;
    this.statusKey = key;
    this.lastStatusAt = now;
    this.broadcast('status', doc);
  }

  private async refreshRisk(): Promise<void> {
    if (this.riskBusy || !this.src.risk) return;
    this.riskBusy = true;
    try {
      const doc = await this.src.risk.summary();
      this.riskError = '';
      const key = changeKey(doc);
      if (key === this.lastRiskKey || this.clients.size === 0) return;
      this.lastRiskKey = key;
      this.lastRisk = doc;
      this.broadcast('risk', doc);
    } catch (err) {
      const msg = errorText(err);
      // once per distinct failure, not once a second
      if (msg !== this.riskError) this.src.log.warn({ err: msg }, 'risk summary failed for /v1/events');
      this.riskError = msg;
    } finally {
      this.riskBusy = false;
    }
  }
}

/** The summary without the fields that change every time it is computed (its clock), so "changed" means the numbers. */
function changeKey(doc: unknown): string {
  if (!doc || typeof doc !== 'object') return JSON.stringify(doc);
  const { as_of: _a, data_age_ms: _d, ...rest } = doc as Record<string, unknown>;
  return JSON.stringify(rest);
}

/**
 * The risk engine as a running service (serve, ingest, demo): risk documents for the API and the
 * web page, and the alert loop. Effects live here; the numbers come from the pure functions.
 *
 * Alert loop: a tick on the Clock evaluates every `tickMs` (1 s), which covers both new
 * snapshots (notify() marks them; an optional `throttleMs` evaluates sooner) and time-driven
 * rules (DTE, stale feed, broker down): a breach is seen within 1 s of the update that caused it. An evaluation builds the report from cached database inputs (closing
 * marks, realized P&L, betas: refreshed every `slowRefreshMs`, 30 s) overlaid with the processor's
 * live state, so the hot path issues no SQL. Transitions are stored in `alerts`, then given to
 * listeners (SSE, /v1/events) and the webhook (queued, never awaited by the pipeline).
 */
import type { Logger } from 'pino';
import type { Clock, TimerHandle } from '../core/clock.js';
import { closeAlert, insertAlert, listAlerts } from '../db/alerts.js';
import type { Storage } from '../db/types.js';
import { AlertBook, type Alert, type Transition } from './alertBook.js';
import { observe, type FeedState } from './alertRules.js';
import { computeScenarios } from './compute.js';
import { riskJson, scenariosJson, summaryJson, type RiskSummaryJson } from './json.js';
import { loadRiskInputs, type LiveState } from './load.js';
import { buildRiskReport, type RiskFilter, type RiskReport } from './report.js';
import type { RiskRules } from './rules.js';
import { marketKey, type RiskInputs } from './types.js';
import { WebhookSender } from './webhook.js';
import { errorText } from '../core/errors.js';

export interface AlertJson {
  id: number | null;
  rule: string;
  subject: string;
  opened_at: string;
  closed_at: string | null;
  value: number;
  threshold: number;
  message: string;
  close_value: number | null;
  close_message: string | null;
}

export function alertJson(a: Alert): AlertJson {
  return {
    id: a.id, rule: a.rule, subject: a.subject, opened_at: new Date(a.openedAt).toISOString(),
    closed_at: a.closedAt === null ? null : new Date(a.closedAt).toISOString(), value: a.value, threshold: a.threshold, message: a.message,
    close_value: a.closeValue ?? null, close_message: a.closeMessage ?? null,
  };
}

export interface RiskServiceOptions {
  storage: Storage;
  rules: RiskRules;
  benchmark: string;
  clock: Clock;
  log: Logger;
  live?: LiveState;
  /** Actor states for broker-down (serve / ingest). */
  feeds?: () => { broker: string; state: string }[];
  webhookUrl?: string;
  throttleMs?: number;
  tickMs?: number;
  slowRefreshMs?: number;
}

export type RiskQuery = RiskFilter & { benchmark?: string };

const RULES_EVALUATED = ['take_profit', 'exit_dte', 'max_loss', 'pin_risk', 'stale_feed', 'broker_down'];

export class RiskService {
  private book: AlertBook;
  private listeners = new Set<(a: AlertJson) => void>();
  private base: RiskInputs | null = null;
  private baseAt = 0;
  private tick: TimerHandle | undefined;
  private pending: TimerHandle | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private feedSince = new Map<string, FeedState>();
  private lastReport: RiskReport | null = null;
  readonly webhook: WebhookSender | undefined;
  readonly counters = { evaluations: 0, evaluationErrors: 0, opened: 0, closed: 0, lastEvaluationMs: 0 };
  /** `alerts.onAlert`, as the web11 contract names it. */
  readonly alerts = { onAlert: (fn: (a: AlertJson) => void) => this.onAlert(fn) };

  constructor(private readonly o: RiskServiceOptions) {
    this.book = new AlertBook(o.rules.hysteresis);
    this.webhook = o.webhookUrl ? new WebhookSender({ url: o.webhookUrl, clock: o.clock, log: o.log }) : undefined;
  }

  /** Loads the open alerts (one per (rule, subject) survives restarts) and starts the tick. */
  async start(): Promise<void> {
    this.book = new AlertBook(this.o.rules.hysteresis, await listAlerts(this.o.storage, { open: true }));
    this.tick = this.o.clock.setInterval(() => this.schedule(0), this.o.tickMs ?? 1000);
  }

  close(): void {
    this.o.clock.clearInterval(this.tick);
    this.o.clock.clearTimeout(this.pending);
    this.webhook?.close();
  }

  onAlert(fn: (a: AlertJson) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * A new latest snapshot arrived. The 1 s tick evaluates anyway (time-driven rules need it), so
   * an update is evaluated within 1 s without an extra evaluation per burst; a non-zero
   * `throttleMs` adds an earlier one (at most one per throttleMs).
   */
  notify(): void {
    if (this.o.throttleMs) this.schedule(this.o.throttleMs);
  }

  openAlerts(): Alert[] {
    return this.book.openAlerts();
  }

  latestReport(): RiskReport | null {
    return this.lastReport;
  }

  /** The /v1/risk/summary document (web11 contract). */
  async summary(filters?: RiskQuery): Promise<RiskSummaryJson> {
    return summaryJson(await this.report(filters, false));
  }

  async positions(filters?: RiskQuery): Promise<ReturnType<typeof riskJson>> {
    return riskJson(await this.report(filters));
  }

  async scenarios(filters: RiskQuery | undefined, mode: 'underlying' | 'beta') {
    const { meta, result } = computeScenarios(await this.report(filters), this.o.rules, mode);
    return scenariosJson(meta, result);
  }

  /**
   * The report now, for the given benchmark and filter: `fresh` reads the database (with the live
   * overlay); otherwise the cached inputs of the alert loop with the live overlay (cheap: the
   * web page's summary once a second).
   */
  async report(filters: RiskQuery = {}, fresh = true): Promise<RiskReport> {
    const benchmark = filters.benchmark ?? this.o.benchmark;
    const inputs = benchmark === this.o.benchmark && !fresh
      ? await this.inputsNow()
      : await loadRiskInputs(this.o.storage, { now: this.o.clock.now(), benchmark, rules: this.o.rules, live: this.o.live });
    return buildRiskReport(inputs, filters);
  }

  /** Evaluates the rules now (waits for a running evaluation first). Returns the transitions. */
  async evaluateNow(): Promise<Transition[]> {
    while (this.running) await this.running;
    let out: Transition[] = [];
    this.running = this.evaluate().then((t) => { out = t; }).finally(() => { this.running = null; });
    await this.running;
    return out;
  }

  private schedule(delayMs: number): void {
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.pending) return;
    this.pending = this.o.clock.setTimeout(() => {
      this.pending = undefined;
      this.running = this.evaluate().then(() => undefined, () => undefined).finally(() => {
        this.running = null;
        if (this.again) {
          this.again = false;
          this.schedule(this.o.throttleMs ?? 0);
        }
      });
    }, delayMs);
  }

  private async inputsNow(): Promise<RiskInputs> {
    const now = this.o.clock.now();
    const live = this.o.live;
    if (!this.base || !live || now - this.baseAt >= (this.o.slowRefreshMs ?? 30_000)) {
      this.base = await loadRiskInputs(this.o.storage, { now, benchmark: this.o.benchmark, rules: this.o.rules, live });
      this.baseAt = now;
      return this.base;
    }
    // Cheap overlay: positions, per-contract values and prices from the processor; the rest cached.
    const market = new Map(this.base.market);
    for (const l of live.latest()) {
      const k = marketKey(l.broker, l.account, l.contractKey);
      const cur = market.get(k);
      if (!cur || cur.eventTs <= l.market.eventTs) market.set(k, l.market);
    }
    const prices = new Map(this.base.prices);
    for (const p of live.prices()) {
      const cur = prices.get(p.symbol);
      if (!cur || cur.at <= p.at) prices.set(p.symbol, { price: p.price, at: p.at, source: 'quote' });
    }
    const livePositions = live.positions();
    const liveBrokers = new Set(livePositions.map((p) => p.broker));
    const positions = [...livePositions, ...this.base.positions.filter((p) => !liveBrokers.has(p.broker))];
    return { ...this.base, now, positions, market, prices };
  }

  private feeds(now: number): FeedState[] {
    const out: FeedState[] = [];
    for (const f of this.o.feeds?.() ?? []) {
      if (f.state === 'stopped') {
        this.feedSince.delete(f.broker);
        continue;
      }
      const connected = f.state === 'connected' || f.state === 'degraded';
      const cur = this.feedSince.get(f.broker);
      const next = cur && cur.connected === connected ? cur : { broker: f.broker, connected, since: now };
      this.feedSince.set(f.broker, next);
      out.push(next);
    }
    return out;
  }

  private async evaluate(): Promise<Transition[]> {
    const started = performance.now();
    try {
      const report = buildRiskReport(await this.inputsNow());
      this.lastReport = report;
      const observations = observe(report, this.o.rules, this.feeds(report.asOf));
      const evaluated = new Set([...RULES_EVALUATED, ...this.o.rules.limits.map((l) => `limit_${l.metric}`)]);
      const transitions = this.book.apply(observations, report.asOf, evaluated);
      for (const t of transitions) await this.deliver(t);
      this.counters.evaluations++;
      return transitions;
    } catch (err) {
      this.counters.evaluationErrors++;
      this.o.log.warn({ err: errorText(err) }, 'risk evaluation failed; retrying on the next tick');
      return [];
    } finally {
      this.counters.lastEvaluationMs = performance.now() - started;
    }
  }

  private async deliver(t: Transition): Promise<void> {
    const stored = t.kind === 'open' ? await insertAlert(this.o.storage, t.alert) : (await closeAlert(this.o.storage, t.alert)) ?? t.alert;
    if (t.kind === 'open') {
      t.alert.id = stored.id;
      this.counters.opened++;
    } else {
      this.counters.closed++;
    }
    this.o.log.info({ rule: stored.rule, subject: stored.subject, state: t.kind, value: t.kind === 'open' ? stored.value : stored.closeValue }, `alert ${t.kind === 'open' ? 'opened' : 'closed'}`);
    const json = alertJson(stored);
    for (const fn of this.listeners) {
      try {
        fn(json);
      } catch (err) {
        this.o.log.warn({ err: errorText(err) }, 'alert listener failed');
      }
    }
    this.webhook?.send({ event: t.kind === 'open' ? 'alert.opened' : 'alert.closed', alert: json });
  }
}

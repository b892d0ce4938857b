/**
 * The risk engine as a running service (serve, ingest, demo): risk documents for the API and the
 * web page, and the alert loop. Effects live here; the numbers come from the pure functions.
 *
 * Alert loop (D77): the state is kept incrementally (IncrementalRisk): database inputs (closing
 * marks, realized P&L, betas, positions of brokers without a live actor) reloaded every
 * `slowRefreshMs` (30 s) into a fresh full state; in between, the processor's new latest
 * snapshots (notify(s)), the live prices and positions are applied as changes, and only the
 * positions, strategies, underlyings and the portfolio they touch are recomputed. A tick every
 * `tickMs` (1 s; an optional `throttleMs` evaluates sooner after an update) evaluates only the
 * rules of the subjects that changed, so a breach is seen within 1 s of the update that caused
 * it. Time-driven rules (DTE, pin risk's DTE, stale feed, broker down) move with the clock for
 * every subject: a full evaluation every `timeTickMs` (5 s) brings every position's DTE and
 * stale flag to the Clock's now and looks at every rule. Transitions are stored in `alerts`, then given to
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
import { IncrementalRisk, mergeChanges, noChanges, observeChanges, type RiskChanges } from './incremental.js';
import { contractMarketOf, type LiveSnapshot } from './live.js';
import { marketKey, type RiskPositionInput } from './types.js';
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
  /** Period of the full evaluation (time-driven rules), default 5000. */
  timeTickMs?: number;
  slowRefreshMs?: number;
}

export type RiskQuery = RiskFilter & { benchmark?: string };

const RULES_EVALUATED = ['take_profit', 'exit_dte', 'max_loss', 'pin_risk', 'stale_feed', 'broker_down'];

export class RiskService {
  private book: AlertBook;
  private listeners = new Set<(a: AlertJson) => void>();
  private engine: IncrementalRisk | null = null;
  private engineAt = 0;
  /** Positions of brokers without a live actor, as the last database load had them. */
  private dbPositions: RiskPositionInput[] = [];
  /** New latest snapshots since the last tick, newest per contract. */
  private pendingMarket = new Map<string, LiveSnapshot>();
  /** notify() without a snapshot: re-read all of the processor's latest values. */
  private rescan = false;
  /** Changes applied but not yet looked at by the rules. */
  private unobserved: RiskChanges = noChanges();
  private fullDue = true;
  private reportCache: { engine: IncrementalRisk; report: RiskReport } | null = null;
  private tick: TimerHandle | undefined;
  private timeTick: TimerHandle | undefined;
  private pending: TimerHandle | undefined;
  private running: Promise<void> | null = null;
  private again = false;
  private feedSince = new Map<string, FeedState>();
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
    this.timeTick = this.o.clock.setInterval(() => {
      this.fullDue = true;
      this.schedule(0);
    }, this.o.timeTickMs ?? 5000);
  }

  close(): void {
    this.o.clock.clearInterval(this.tick);
    this.o.clock.clearInterval(this.timeTick);
    this.o.clock.clearTimeout(this.pending);
    this.webhook?.close();
  }

  onAlert(fn: (a: AlertJson) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /**
   * A new latest snapshot arrived (the processor's onLatest; without one: something changed,
   * re-read all). The 1 s tick evaluates what changed, so an update is evaluated within 1 s
   * without an evaluation per burst; a non-zero `throttleMs` adds an earlier one.
   */
  notify(s?: LiveSnapshot): void {
    if (s) {
      const k = marketKey(s.broker, s.account, s.contractKey);
      const cur = this.pendingMarket.get(k);
      if (!cur || cur.eventTs <= s.eventTs) this.pendingMarket.set(k, s);
    } else {
      this.rescan = true;
    }
    if (this.o.throttleMs) this.schedule(this.o.throttleMs);
  }

  openAlerts(): Alert[] {
    return this.book.openAlerts();
  }

  /** The alert loop's state as a report (as of its last evaluation), null before the first. */
  latestReport(): RiskReport | null {
    const engine = this.engine;
    if (!engine) return null;
    if (this.reportCache?.engine !== engine || this.reportStale) {
      this.reportCache = { engine, report: engine.report() };
      this.reportStale = false;
    }
    return this.reportCache.report;
  }

  private reportStale = true;

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
    if (benchmark !== this.o.benchmark || fresh) {
      return buildRiskReport(await loadRiskInputs(this.o.storage, { now: this.o.clock.now(), benchmark, rules: this.o.rules, live: this.o.live }), filters);
    }
    // The alert loop's state brought to now (every position at now: DTE exact); what changed is
    // kept for the rules (unobserved), so a report never hides an update from the alerts.
    const { engine } = await this.advance(true);
    if (!filters.account && !filters.underlying && !filters.broker) return engine.report();
    return buildRiskReport(engine.inputs(), filters);
  }

  /** Evaluates every rule now (waits for a running evaluation first). Returns the transitions. */
  async evaluateNow(): Promise<Transition[]> {
    while (this.running) await this.running;
    this.fullDue = true;
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

  /**
   * Brings the incremental state to the Clock's now: a fresh load from the database every
   * slowRefreshMs (or always without a live state), otherwise the changes since the last call.
   * `all`: time moved (every DTE and stale flag to now; every latest value re-read). Returns the state and whether it was rebuilt.
   */
  private async advance(all: boolean): Promise<{ engine: IncrementalRisk; rebuilt: boolean }> {
    const now = this.o.clock.now();
    const live = this.o.live;
    this.reportStale = true;
    if (!this.engine || !live || now - this.engineAt >= (this.o.slowRefreshMs ?? 30_000)) {
      this.rescan = false;
      const inputs = await loadRiskInputs(this.o.storage, { now, benchmark: this.o.benchmark, rules: this.o.rules, live });
      const liveBrokers = new Set(live?.positions().map((p) => p.broker));
      this.dbPositions = inputs.positions.filter((p) => !liveBrokers.has(p.broker));
      this.engine = new IncrementalRisk(inputs);
      this.engineAt = now;
      this.unobserved = noChanges();
      this.fullDue = true; // a new state: the next evaluation looks at every rule
      this.applyPending(this.engine);
      mergeChanges(this.unobserved, this.engine.refresh(now));
      return { engine: this.engine, rebuilt: true };
    }
    const engine = this.engine;
    this.applyPending(engine);
    if (this.rescan || all) {
      this.rescan = false;
      for (const l of live.latest()) engine.setMarket(l.broker, l.account, l.contractKey, l.market);
    }
    const livePositions = live.positions();
    const liveBrokers = new Set(livePositions.map((p) => p.broker));
    engine.setPositions([...livePositions, ...this.dbPositions.filter((p) => !liveBrokers.has(p.broker))]);
    for (const p of live.prices()) engine.setPrice(p.symbol, p.price, p.at);
    mergeChanges(this.unobserved, engine.refresh(now, all));
    return { engine, rebuilt: false };
  }

  private applyPending(engine: IncrementalRisk): void {
    for (const s of this.pendingMarket.values()) engine.setMarket(s.broker, s.account, s.contractKey, contractMarketOf(s));
    this.pendingMarket.clear();
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
      const all = this.fullDue;
      this.fullDue = false;
      const { engine, rebuilt } = await this.advance(all);
      if (rebuilt) this.fullDue = false;
      const now = engine.asOf();
      const changes = this.unobserved;
      this.unobserved = noChanges();
      const feeds = this.feeds(now); // polled every tick, so 'since' is exact to the tick
      let transitions: Transition[];
      if (all || rebuilt) {
        // Everything at now: the same observations as a full report would give.
        const evaluated = new Set([...RULES_EVALUATED, ...this.o.rules.limits.map((l) => `limit_${l.metric}`)]);
        transitions = this.book.apply(observe(engine.view(), this.o.rules, feeds), now, evaluated);
      } else {
        const [observations, scope] = observeChanges(engine, changes, this.o.rules);
        transitions = this.book.apply(observations, now, scope);
      }
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

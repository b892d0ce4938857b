/**
 * Prometheus gauges of the risk engine (text format, appended to /metrics): risk per underlying
 * and portfolio from the last evaluation, open alerts per rule, evaluation counters.
 */
import type { RiskService } from './service.js';

const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export function riskMetrics(service: RiskService): string {
  const lines: string[] = [];
  const fam = (name: string, type: 'gauge' | 'counter', help: string, samples: [Record<string, string>, number | null][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, v] of samples) {
      if (v === null || !Number.isFinite(v)) continue;
      const l = Object.entries(labels).map(([k, x]) => `${k}="${esc(x)}"`).join(',');
      lines.push(`${name}${l ? `{${l}}` : ''} ${v}`);
    }
  };
  const r = service.latestReport();
  if (r) {
    const subjects = [...r.underlyings.map((u) => [u.underlying, u] as const), ['portfolio', r.totals] as const];
    for (const [metric, key, help] of [
      ['delta', 'delta', 'Net delta in shares (stock and futures included).'],
      ['dollar_delta', 'dollarDelta', 'Dollar delta (delta x underlying price).'],
      ['bwd', 'bwd', `Beta-weighted delta in ${r.benchmark.symbol} shares.`],
      ['gamma', 'gamma', 'Position gamma, shares per $1.'],
      ['theta', 'theta', 'Position theta, $ per day.'],
      ['vega', 'vega', 'Position vega, $ per IV point.'],
      ['unrealized_pnl', 'unrealizedPnl', 'Unrealized P&L in $.'],
      ['day_pnl', 'dayPnl', 'Day P&L in $.'],
    ] as const) {
      fam(`riskwire_risk_${metric}`, 'gauge', help, subjects.map(([s, v]) => [{ subject: s }, v[key]]));
    }
  }
  const open = new Map<string, number>();
  for (const a of service.openAlerts()) open.set(a.rule, (open.get(a.rule) ?? 0) + 1);
  fam('riskwire_alerts_open', 'gauge', 'Open alerts per rule.', [...open].map(([rule, n]) => [{ rule }, n]));
  fam('riskwire_alerts_opened_total', 'counter', 'Alerts opened by this process.', [[{}, service.counters.opened]]);
  fam('riskwire_alerts_closed_total', 'counter', 'Alerts closed by this process.', [[{}, service.counters.closed]]);
  fam('riskwire_risk_evaluations_total', 'counter', 'Rule evaluations run.', [[{}, service.counters.evaluations]]);
  fam('riskwire_risk_evaluation_seconds', 'gauge', 'Duration of the last rule evaluation.', [[{}, service.counters.lastEvaluationMs / 1000]]);
  if (service.webhook) {
    fam('riskwire_alert_webhook_delivered_total', 'counter', 'Alerts delivered to ALERT_WEBHOOK_URL.', [[{}, service.webhook.stats.delivered]]);
    fam('riskwire_alert_webhook_dropped_total', 'counter', 'Alerts given up on or dropped from a full webhook queue.', [[{}, service.webhook.stats.dropped]]);
  }
  return `${lines.join('\n')}\n`;
}

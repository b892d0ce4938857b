import { DEMO_FLAG_HELP, openTargetStorage, resolveDataTarget } from '../app/target.js';
import { systemClock } from '../core/clock.js';
import { createLogger } from '../core/logger.js';
import { formatTime, parseTz } from '../core/tz.js';
import { listAlerts } from '../db/alerts.js';
import type { Alert } from '../risk/alertBook.js';
import { grid } from '../risk/format.js';
import { loadRules, resolveBenchmark } from '../risk/rules.js';
import { alertJson, RiskService } from '../risk/service.js';
import { durationMs, parseArgs } from './args.js';

export const ALERTS_HELP = `Usage: npm run alerts -- [--open] [--since=1d] [--evaluate] [--json]

Alerts opened and closed by the risk rules (RISK_RULES_FILE, else the built-in defaults: take
profit at 50 % of max profit, exit at 21 DTE, max loss 2 x credit, pin risk, stale feed,
broker down), newest first. serve / ingest / demo evaluate the rules continuously; --evaluate
evaluates them once here against the database first (opening and closing alerts).
Alerts only: nothing places orders.

  --open        only alerts still open
  --since=D     opened or closed within the last D (30m, 1d; default 7d)
  --evaluate    evaluate the rules against the database now, then list
  --tz=ZONE     table times in this zone (e.g. America/New_York; default UTC); --json stays UTC
  --json        {"alerts": [...]} as GET /v1/alerts
  ${DEMO_FLAG_HELP}
  --help        this text`;

export async function runAlerts(argv: string[]): Promise<number> {
  const flags = parseArgs(argv, 'alerts', ['help', 'open', 'since', 'json', 'evaluate', 'benchmark', 'demo', 'tz']);
  if (flags.help) {
    process.stdout.write(`${ALERTS_HELP}\n`);
    return 0;
  }
  const sinceMs = durationMs(flags, 'since', 7 * 86_400_000)!;
  const tz = parseTz(flags.tz);
  const rules = loadRules();
  const benchmark = resolveBenchmark(flags.benchmark);
  const log = createLogger({ name: 'alerts', level: process.env.LOG_LEVEL ?? 'warn' });
  const storage = await openTargetStorage(resolveDataTarget({ demo: flags.demo === true }), log);
  try {
    if (flags.evaluate) {
      const service = new RiskService({ storage, rules, benchmark, clock: systemClock, log });
      await service.start();
      service.close();
      await service.evaluateNow();
    }
    const alerts = await listAlerts(storage, { open: !!flags.open, since: Date.now() - sinceMs });
    if (flags.json) process.stdout.write(`${JSON.stringify({ alerts: alerts.map(alertJson) })}\n`);
    else process.stdout.write(`${alertsTable(alerts, tz)}\n`);
  } finally {
    await storage.close();
  }
  return 0;
}

const t = (ms: number | null, tz?: string) => (ms === null ? 'open' : formatTime(ms, tz).replace(/\.\d{3}(Z|[+-])/, '$1'));
const n = (x: number) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));

export function alertsTable(alerts: Alert[], tz?: string): string {
  if (alerts.length === 0) return 'no alerts in this range';
  return grid(['opened_at', 'closed_at', 'rule', 'value', 'threshold', 'message'],
    alerts.map((a) => [t(a.openedAt, tz), t(a.closedAt, tz), a.rule, n(a.value), n(a.threshold), a.message]),
    [false, false, false, true, true, false]);
}

import { DEMO_FLAG_HELP, openTargetStorage, resolveDataTarget } from '../app/target.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { computeRisk, computeScenarios } from '../risk/compute.js';
import { attributionTable, positionsTable, realizedLine, reportHeader, scenariosText, strategiesTable } from '../risk/format.js';
import { attributionDocument } from '../risk/attribution.js';
import { attributionRows } from '../db/attribution.js';
import { attributionRangeFrom, parseDuration } from '../api/params.js';
import { formatTime, parseTz } from '../core/tz.js';
import { positionJson, riskJson, scenariosJson } from '../risk/json.js';
import { marketMetricJson, readMarketMetrics } from '../db/marketMetrics.js';
import { metricsViewTable } from './metricsView.js';
import { loadRules, resolveBenchmark } from '../risk/rules.js';
import { parseArgs } from './args.js';

export const RISK_HELP = `Usage: npm run risk -- [--account=A] [--underlying=U] [--broker=B] [--benchmark=SPY] [--group=strategy] [--scenarios [--mode=beta]] [--json | --csv]
       npm run risk -- --attribution --since=1d [--until=TIME] [--lookback=1d] [filters] [--json | --csv]

The portfolio now, from the database (risk.md): per position and per underlying with totals,
delta (stock and futures included), $delta, beta-weighted delta, gamma, theta, vega,
unrealized and day P&L, DTE.

  --account=A, --underlying=U, --broker=B   only these positions
  --benchmark=SYM    beta-weighting benchmark (default BENCHMARK, else SPY); betas are vs SPY
                     (RISK_RULES_FILE "betas", market metrics when present), unknown β = unweighted
  --group=strategy   one row per recognised strategy (credit, max profit/loss, breakevens)
  --scenarios        the what-if grid: spot -10..+10 %, IV -5/0/+5 points, +1 day; full
                     Black-Scholes revaluation and the Taylor estimate, per underlying and portfolio
  --mode=beta        with --scenarios: the benchmark moves and each underlying by β × that
  --attribution      Greek P&L attribution over [--since, --until] (risk.md): per position
                     delta*dS + 1/2*gamma*dS^2 + theta*days + vega*dIV(points) with the Greeks at
                     the start, the actual P&L (mark change x qty x multiplier) and the residual;
                     --since/--until: a duration back from now (1d, 2h) or ISO-8601 / epoch ms
                     (--until defaults to now); --lookback: how old a position's snapshot at an
                     end may be (default 1d)
  --tz=ZONE          times in the tables in this zone (default UTC); JSON/CSV stay UTC; day P&L
                     is always against the 16:00 New York close
  --json             the JSON document (interface.md); with --scenarios the scenarios document
  --csv              one CSV row per position
  ${DEMO_FLAG_HELP}
  --help             this text

Reads DATABASE_URL, or the embedded PostgreSQL in DATA_DIR/pg (--demo: DATA_DIR/demo); RISK_RULES_FILE (rate, dividend
yields, betas). Exit code 2 = bad flag, bad rules file or unreachable database.`;

const FLAGS = ['help', 'demo', 'account', 'underlying', 'broker', 'benchmark', 'group', 'scenarios', 'mode', 'json', 'csv', 'attribution', 'since', 'until', 'lookback', 'tz'];

export async function runRisk(argv: string[]): Promise<number> {
  const flags = parseArgs(argv, 'risk', FLAGS);
  if (flags.help) {
    process.stdout.write(`${RISK_HELP}\n`);
    return 0;
  }
  if (flags.json && flags.csv) throw new ConfigError('--json and --csv exclude each other: pick one');
  if (flags.group !== undefined && flags.group !== 'strategy' && flags.group !== 'underlying') throw new ConfigError(`--group=${String(flags.group)} is not valid: use --group=strategy or --group=underlying`);
  const mode = flags.mode === undefined ? 'underlying' : flags.mode;
  if (mode !== 'underlying' && mode !== 'beta') throw new ConfigError(`--mode=${String(mode)} is not valid: use underlying or beta`);
  const text = (name: string) => {
    const v = flags[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string' || !v.trim()) throw new ConfigError(`--${name} needs a value, e.g. --${name}=SPY`);
    return name === 'account' ? v.trim() : v.trim().toUpperCase();
  };
  const filter = { account: text('account'), underlying: text('underlying'), broker: flags.broker === undefined ? undefined : String(flags.broker).trim().toLowerCase() };
  const tz = parseTz(flags.tz);
  if (!flags.attribution && (flags.since !== undefined || flags.until !== undefined || flags.lookback !== undefined)) {
    throw new ConfigError('--since, --until and --lookback go with --attribution');
  }
  if (flags.attribution) {
    if (flags.scenarios) throw new ConfigError('--attribution and --scenarios exclude each other: pick one');
    const { t0, t1 } = attributionRangeFrom(flags.since, flags.until, Date.now(), (k) => `--${k}`);
    const lookback = flags.lookback === undefined ? 86_400_000 : parseDuration(flags.lookback, '--lookback');
    const log = createLogger({ name: 'risk', level: process.env.LOG_LEVEL ?? 'warn' });
    const storage = await openTargetStorage(resolveDataTarget({ demo: flags.demo === true }), log);
    try {
      const doc = attributionDocument(await attributionRows(storage, t0, t1, lookback, filter), t0, t1);
      if (flags.json) process.stdout.write(`${JSON.stringify(doc)}\n`);
      else if (flags.csv) process.stdout.write(csv(doc.positions as unknown as Record<string, unknown>[]));
      else process.stdout.write(`Greek P&L attribution ${formatTime(t0, tz)} -> ${formatTime(t1, tz)} (${doc.dt_days.toFixed(4)} days), $; Greeks at the start\n${doc.note}\n\n${attributionTable(doc)}\n`);
    } finally {
      await storage.close();
    }
    return 0;
  }
  const benchmark = resolveBenchmark(flags.benchmark);
  const rules = loadRules();
  const log = createLogger({ name: 'risk', level: process.env.LOG_LEVEL ?? 'warn' });
  const storage = await openTargetStorage(resolveDataTarget({ demo: flags.demo === true }), log);
  try {
    const report = await computeRisk(storage, { now: Date.now(), benchmark, rules, filter });
    if (flags.scenarios) {
      const { meta, result } = computeScenarios(report, rules, mode);
      if (flags.json) process.stdout.write(`${JSON.stringify(scenariosJson(meta, result))}\n`);
      else if (flags.csv) process.stdout.write(csv(scenariosJson(meta, result).rows));
      else process.stdout.write(`${reportHeader(report, rules.rate, tz)}\nwhat-if (${mode === 'beta' ? `benchmark ${benchmark} moves, underlyings by beta` : 'each underlying moves'}; European exercise assumed; dividend yield ${meta.dividendYield === 0 ? 0 : 'per RISK_RULES_FILE'})\n\n${scenariosText(result, meta.spotMovesPct, meta.ivShiftsPts, meta.days)}\n`);
    } else if (flags.json) {
      // interface.md's document plus `market_metrics` per underlying (fractions; a future by its product).
      const metrics = await readMarketMetrics(storage, report.underlyings.map((u) => u.underlying));
      process.stdout.write(`${JSON.stringify({ ...riskJson(report), market_metrics: metrics.map((m) => marketMetricJson(m, report.asOf)) })}\n`);
    } else if (flags.csv) {
      process.stdout.write(csv(report.positions.map(positionJson)));
    } else {
      const body = flags.group === 'strategy' ? strategiesTable(report) : positionsTable(report);
      const metrics = metricsViewTable(await readMarketMetrics(storage, report.underlyings.map((u) => u.underlying)), report.underlyings.map((u) => u.underlying), report.asOf);
      process.stdout.write(`${reportHeader(report, undefined, tz)}\n\n${body}\n${realizedLine(report)}\n${metrics ? `\n${metrics}\n` : ''}`);
    }
  } finally {
    await storage.close();
  }
  return 0;
}

export function csv(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0]);
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = Array.isArray(v) ? v.join(' ') : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [cols.join(','), ...rows.map((r) => cols.map((c) => cell(r[c])).join(','))].map((l) => `${l}\n`).join('');
}

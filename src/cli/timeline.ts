import { timelineJson } from '../api/json.js';
import { timelineQueryFrom, TIMELINE_DEFAULTS } from '../api/params.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { DEMO_FLAG_HELP, openTargetStorage, resolveDataTarget } from '../app/target.js';
import { riskTimeline, type TimelineQuery, type TimelineRow } from '../db/timeline.js';
import { loadRules, resolveBenchmark } from '../risk/rules.js';
import { loadTimelineDays, loadTimelineWeights } from '../risk/timelineWeights.js';
import { formatTime, parseTz, tzOffsetMs } from '../core/tz.js';
import { parseArgs } from './args.js';
import { fmtNum, table } from './output.js';

export const TIMELINE_HELP = `Usage: npm run timeline -- [--since=1h | --from=T [--to=T]] [--bucket=1m] [options]

Unified risk timeline from the database: per time bucket and underlying (and account),
net position delta, gamma, theta, vega and dollar delta, summed across brokers.

  --since=D          range = the last D (default 1h); D like 30s, 15m, 2h, 1d
  --from=T --to=T    explicit range; T is ISO-8601 (no offset = UTC) or epoch ms; --to defaults to now
  --bucket=D         bucket size (default 1m, at least 1s, at most 5000 buckets)
  --stale=D          a position whose newest snapshot is older than D is not counted (default 15m)
  --account=A        only these accounts (comma list)
  --underlying=U     only these underlyings (comma list, e.g. SPY,SPX)
  --broker=B         only these brokers (comma list)
  --all-accounts     one row per bucket and underlying, summed across accounts
  --benchmark=SYM    beta-weighting benchmark for bwd (default BENCHMARK, else SPY)
  --wide             add the bwd and unrealized P&L columns to the table and the CSV
  --tz=ZONE          table times in this zone (e.g. America/New_York; default UTC) and bucket
                     edges aligned to its midnight (1d buckets = local days); JSON/CSV stay UTC
  --json             a JSON array of objects (always with bwd, unrealized_pnl)
  --csv              CSV with a header row
  ${DEMO_FLAG_HELP}
  --help             this text

Each bucket is sampled at its end: every position counts with its newest snapshot at or
before that instant (carried forward while younger than --stale). Position greeks are
greek x quantity x multiplier: delta in shares equivalent, theta per day, vega per vol
point; dollar delta = delta x quantity x multiplier x underlying price.
bwd = dollar delta x beta / benchmark price (betas: market metrics, RISK_RULES_FILE betas
override; unknown beta or benchmark price = empty, never beta 1); unrealized P&L =
(snapshot mark - position avg_price) x quantity x multiplier, empty when any is unknown.
Reads DATABASE_URL, or the embedded PostgreSQL in DATA_DIR/pg. Exit code 2 = bad flag or
unreachable database.`;

const FLAGS = ['help', 'since', 'from', 'to', 'bucket', 'stale', 'account', 'underlying', 'broker', 'all-accounts', 'json', 'csv', 'demo', 'benchmark', 'wide', 'tz'];

export async function runTimeline(argv: string[]): Promise<number> {
  const flags = parseArgs(argv, 'timeline', FLAGS);
  if (flags.help) {
    process.stdout.write(`${TIMELINE_HELP}\n`);
    return 0;
  }
  if (flags.json && flags.csv) throw new ConfigError('--json and --csv exclude each other: pick one');
  const tz = parseTz(flags.tz);
  const parsed = timelineQueryFrom(flags, Date.now(), (k) => `--${k}`);
  const query = tz ? { ...parsed, alignOffsetMs: tzOffsetMs(parsed.from, tz) } : parsed;
  const benchmark = resolveBenchmark(flags.benchmark);
  const rules = loadRules();
  const wide = flags.wide === true;
  const log = createLogger({ name: 'timeline', level: process.env.LOG_LEVEL ?? 'warn' });
  const storage = await openTargetStorage(resolveDataTarget({ demo: flags.demo === true }), log);
  try {
    const weights = await loadTimelineWeights(storage, benchmark, rules);
    const rows = await riskTimeline(storage, { ...query, weights, days: await loadTimelineDays(storage, query) });
    if (flags.json) process.stdout.write(`${JSON.stringify(rows.map(timelineJson))}\n`);
    else if (flags.csv) process.stdout.write(timelineCsv(rows, wide));
    else {
      const bench = wide ? `bwd in ${benchmark} shares at each bucket's ${benchmark} price (now ${weights.benchmarkPrice === null ? 'unknown' : fmtNum(weights.benchmarkPrice)}); P&L = (mark - avg_price) x qty x multiplier; day P&L vs the previous 16:00 New York close\n` : '';
      process.stdout.write(`${timelineHeader(query, tz)}\n${bench}${timelineTable(rows, !query.allAccounts, wide, tz)}\n`);
    }
  } finally {
    await storage.close();
  }
  return 0;
}

const iso = (ms: number) => new Date(ms).toISOString();

export const CSV_COLUMNS = ['bucket_start', 'bucket_end', 'as_of', 'underlying', 'account', 'positions', 'brokers', 'delta', 'gamma', 'theta', 'vega', 'dollar_delta'] as const;
/** Appended by --wide (after the pinned columns, so positional readers keep working). */
export const CSV_WIDE_COLUMNS = ['bwd', 'unrealized_pnl', 'day_pnl'] as const;

export function timelineCsv(rows: TimelineRow[], wide = false): string {
  const columns: readonly (keyof ReturnType<typeof timelineJson>)[] = wide ? [...CSV_COLUMNS, ...CSV_WIDE_COLUMNS] : CSV_COLUMNS;
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = rows.map((r) => {
    const o = timelineJson(r);
    return columns.map((c) => cell(o[c])).join(',');
  });
  return [columns.join(','), ...lines].map((l) => `${l}\n`).join('');
}

export function timelineHeader(q: TimelineQuery, tz?: string): string {
  const short = (ms: number) => formatTime(ms, tz);
  const off = q.alignOffsetMs ?? 0;
  const filters = [
    q.brokers && `broker ${q.brokers.join(',')}`,
    q.accounts && `account ${q.accounts.join(',')}`,
    q.underlyings && `underlying ${q.underlyings.join(',')}`,
  ].filter(Boolean);
  return [
    `risk timeline ${short(Math.floor((q.from + off) / q.bucketMs) * q.bucketMs - off)} → ${short(q.to)}, bucket ${dur(q.bucketMs)}, values as of each bucket end${tz ? ` (times in ${tz})` : ''}`,
    `positions count with their newest snapshot younger than ${dur(q.staleMs)} (stale bound${q.staleMs === TIMELINE_DEFAULTS.staleMs ? ', default' : ''})` +
      `${filters.length ? `; ${filters.join('; ')}` : ''}${q.allAccounts ? '; summed across accounts' : ''}`,
    'delta, gamma in shares equivalent (greek x qty x multiplier); theta per day; vega per vol point; $delta = delta x underlying price',
    '',
  ].join('\n');
}

export function timelineTable(rows: TimelineRow[], perAccount: boolean, wide = false, tz?: string): string {
  const short = (ms: number) => formatTime(ms, tz);
  if (rows.length === 0) return 'no position had a fresh snapshot in this range';
  const headers = ['as_of', 'underlying', ...(perAccount ? ['account'] : []), 'positions', 'brokers', 'delta', 'gamma', 'theta', 'vega', '$delta', ...(wide ? ['bwd', 'unreal_pnl', 'day_pnl'] : [])];
  return table(headers, rows.map((r) => [
    short(r.asOf), r.underlying, ...(perAccount ? [r.account ?? ''] : []), String(r.positions), String(r.brokers),
    fmtNum(r.delta), fmtNum(r.gamma), fmtNum(r.theta), fmtNum(r.vega), fmtNum(r.dollarDelta),
    ...(wide ? [fmtNum(r.bwd ?? null), fmtNum(r.unrealizedPnl ?? null), fmtNum(r.dayPnl ?? null)] : []),
  ]));
}

function dur(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

import { readAppConfig } from '../app/config.js';
import { Pipeline } from '../app/pipeline.js';
import { startAlpacaSimulator, type AlpacaSimulator } from '../brokers/alpaca/sim/index.js';
import { startCpapiSimulator, type CpapiSimulator } from '../brokers/ibkr/sim/cpapi/index.js';
import { startTastySimulator, type TastySimulator } from '../brokers/tasty/sim/index.js';
import { readMarketMetrics } from '../db/marketMetrics.js';
import { metricsViewTable } from './metricsView.js';
import { createLogger } from '../core/logger.js';
import { configFor, openTargetStorage, resolveDataTarget } from '../app/target.js';
import type { Storage } from '../db/types.js';
import { listAlerts } from '../db/alerts.js';
import { resolveTimelineRange, riskTimeline, type TimelineQuery } from '../db/timeline.js';
import { durationMs, intFlag, parseArgs } from './args.js';
import { timelineHeader, timelineTable } from './timeline.js';
import { TIMELINE_DEFAULTS } from '../api/params.js';
import { fmtMs } from './output.js';
import { startRisk, type RiskWiring } from '../app/risk.js';
import { alertsTable } from './alerts.js';
import { positionsTable, reportHeader } from '../risk/format.js';
import { loadRules, resolveBenchmark } from '../risk/rules.js';

/** The demo's rules when RISK_RULES_FILE is unset: betas for the simulated underlyings and a few limits. */
export const DEMO_RULES_FILE = 'config/risk-rules.example.json';
/** The demo's pool size (its writer, risk loop and maintenance share it). */
export const DEMO_DB_CONNECTIONS = 1;

export const DEMO_HELP = `Usage: npm run demo -- [--duration=30] [--bucket=5s] [--serve [--port=8377]]

Runs the whole pipeline against the built-in simulated brokers: a local Tastytrade REST +
DXLink server, a local IBKR Client Portal gateway and a local Alpaca API, all driven by the
real broker plugins, ingesting into the demo's own database: an embedded PostgreSQL in
DATA_DIR/demo/pg (default ./.data/demo/pg), or DEMO_DATABASE_URL when set; never the real
record. Shows progress, then prints the risk timeline it recorded; read it again later
with --demo (npm run timeline -- --demo). Needs no credentials, no network and no
database server. npm run db -- stop --demo stops its server; purge --demo --broker=...
deletes its rows. It ends with the portfolio risk and the alerts
the risk rules raised (RISK_RULES_FILE, else config/risk-rules.example.json).

  --duration=S   how long to ingest (default 30s)
  --bucket=S     timeline bucket (default 5s)
  --serve        then keep the brokers streaming and serve the web page (and the API) on
                 127.0.0.1 until Ctrl-C; prints the page's URL
  --port=N       port for --serve (default 8377; 0 = any free port)
  --help         this text`;

export async function runDemo(argv: string[]): Promise<number> {
  const flags = parseArgs(argv, 'demo', ['help', 'duration', 'bucket', 'serve', 'port']);
  if (flags.help) {
    process.stdout.write(`${DEMO_HELP}\n`);
    return 0;
  }
  const duration = durationMs(flags, 'duration', 30_000)!;
  const bucketMs = durationMs(flags, 'bucket', 5_000)!;
  const serve = flags.serve !== undefined && flags.serve !== 'false' && flags.serve !== '0';
  const port = intFlag(flags, 'port', 8377, 0, 65535);
  const target = resolveDataTarget({ demo: true });
  const config = configFor(target, readAppConfig());
  const rulesFile = process.env.RISK_RULES_FILE?.trim() || DEMO_RULES_FILE;
  const rules = loadRules({ ...process.env, RISK_RULES_FILE: rulesFile });
  const benchmark = resolveBenchmark(undefined);
  const log = createLogger({ name: 'demo', level: process.env.LOG_LEVEL ?? 'warn' });
  const say = (line: string) => process.stdout.write(`${line}\n`);

  say('riskwire demo: starting simulated brokers (Tastytrade REST + DXLink, IBKR Client Portal gateway, Alpaca REST + streams)');
  // Tastytrade and IBKR carry the futures book (an ES future and two options on it, src/brokers/simfutures.ts).
  const tasty: TastySimulator = await startTastySimulator({ futures: true });
  const ibkr: CpapiSimulator = await startCpapiSimulator({ hbMs: 2000, futures: true });
  const alpaca: AlpacaSimulator = await startAlpacaSimulator({ knobs: { tickMs: 500 } });
  // The real plugins read their configuration from the environment, in their worker threads too.
  Object.assign(process.env, tasty.env, alpaca.env, {
    IBKR_TRANSPORT: 'cpapi', IBKR_GATEWAY_URL: ibkr.url, IBKR_TLS_INSECURE: '1', IBKR_HEARTBEAT_MS: '5000', ALPACA_GREEKS_POLL_MS: '1000',
  });
  delete process.env.TASTY_ACCOUNTS;
  delete process.env.IBKR_ACCOUNTS;

  let storage: Storage | undefined;
  let pipeline: Pipeline | undefined;
  let risk: RiskWiring | undefined;
  try {
    // Two connections, not the pool's 10: each PostgreSQL backend is another ~20 MB of summed RSS (D89).
    storage = await openTargetStorage(target, log, { maxConnections: DEMO_DB_CONNECTIONS });
    say(`database: ${target.label} (kept apart from the real record)`);
    pipeline = new Pipeline({ storage, config, log });
    risk = await startRisk(pipeline, storage, log, { rules, benchmark, webhookUrl: process.env.ALERT_WEBHOOK_URL?.trim() || undefined });
    const startedAt = Date.now();
    await Promise.all(['tasty', 'ibkr', 'alpaca'].map((id) => pipeline!.startActor({ id, broker: id })));
    say(`ingesting for ${Math.round(duration / 1000)}s (Ctrl-C stops early)\n`);

    let interrupted = false;
    const stopEarly = () => (interrupted = true);
    process.once('SIGINT', stopEarly);
    process.once('SIGTERM', stopEarly);
    while (!interrupted && Date.now() - startedAt < duration) {
      await new Promise((r) => setTimeout(r, Math.min(2000, duration - (Date.now() - startedAt))));
      const s = pipeline.processor.stats();
      const actors = pipeline.supervisor.status().map((a) => `${a.id} ${a.state}`).join(', ');
      const perBroker = Object.entries(s.perBroker).map(([b, c]) => `${b} ${c.rowsOut}`).join(', ');
      say(`  ${String(Math.round((Date.now() - startedAt) / 1000)).padStart(3)}s  ${actors}  |  rows ${s.flush.rowsWritten} (${perBroker})  p95 ${fmtMs(s.latency.p95)}`);
    }
    await risk.service.evaluateNow(); // the last state of the run, before the streams stop
    // --serve keeps the brokers streaming (and the alert loop running) for the page: write what is pending instead of stopping.
    if (!(serve && !interrupted)) risk.stop();
    const report = serve && !interrupted ? (await pipeline.processor.drain(), { journaledRows: 0 }) : await pipeline.stop();
    const s = pipeline.processor.stats();
    say(`\ningested: ${s.flush.rowsWritten} snapshot rows, ${s.drops.duplicate + s.drops.duplicate_db} duplicates dropped, ${s.outOfOrder} out-of-order stored, ${s.drops.malformed} malformed frames skipped, latency p50 ${fmtMs(s.latency.p50)} p95 ${fmtMs(s.latency.p95)} p99 ${fmtMs(s.latency.p99)}${report.journaledRows ? `, ${report.journaledRows} rows journaled` : ''}`);

    const counts = await storage.query<{ broker: string; n: string }>('SELECT broker, count(*) AS n FROM greek_snapshots WHERE received_at >= $1 GROUP BY broker ORDER BY broker', [new Date(startedAt)]);
    say(`rows in the database from this run: ${counts.map((c) => `${c.broker} ${c.n}`).join(', ') || 'none'}`);
    const shared = await storage.query<{ contract_key: string; brokers: string }>(
      `SELECT contract_key, string_agg(DISTINCT broker, ', ') AS brokers FROM greek_snapshots WHERE received_at >= $1
        GROUP BY contract_key HAVING count(DISTINCT broker) > 1 ORDER BY 1`,
      [new Date(startedAt)],
    );
    for (const c of shared) say(`same contract at several brokers: "${c.contract_key}" (${c.brokers})`);

    say(await timelineText(storage, startedAt, bucketMs));
    const riskReport = await risk.service.report();
    say(`\nportfolio risk now (npm run risk -- --demo; rules ${rulesFile})\n${reportHeader(riskReport)}\n\n${positionsTable(riskReport)}`);
    const unds = riskReport.underlyings.map((u) => u.underlying);
    const metrics = metricsViewTable(await readMarketMetrics(storage, unds), unds, riskReport.asOf);
    if (metrics) say(`\n${metrics}`);
    const runAlerts = (await listAlerts(storage, { since: startedAt })).filter((a) => a.openedAt >= startedAt || (a.closedAt ?? 0) >= startedAt);
    say(`\nalerts during this run (npm run alerts -- --demo)\n${alertsTable(runAlerts)}`);
    say(`
next:
  npm run risk -- --demo                              this demo's portfolio risk (--group=strategy, --scenarios, --json)
  npm run alerts -- --demo --open                     open alerts (exit rules, limits, pin risk, stale feed)
  npm run timeline -- --demo --since=10m --bucket=1m  this demo's risk timeline again
  npm run serve -- --demo                             web page and HTTP API over the demo database on http://127.0.0.1:8377
  npm run greeks -- --broker=sim                      live Greeks table (synthetic broker, writes nothing)
  npm run db -- stop --demo                           stop the demo's database server
  npm run ingest -- --broker=tasty                    real Tastytrade into the real record (set TASTY_CLIENT_SECRET, TASTY_REFRESH_TOKEN)`);
    const gotBoth = counts.length >= 2;
    if (!gotBoth) process.stderr.write('riskwire demo: expected rows from at least two simulated brokers; see the log above (LOG_LEVEL=info for more)\n');
    if (serve && !interrupted) {
      process.off('SIGINT', stopEarly);
      process.off('SIGTERM', stopEarly);
      // Loaded only for --serve: the API (fastify, swagger, prom-client, ajv) is ~60 MB of RSS the plain demo does not need.
      const { servePage } = await import('./demoServe.js');
      await servePage({ pipeline, storage, log, port, say, risk: risk.service });
    }
    return gotBoth ? 0 : 1;
  } finally {
    risk?.stop();
    await storage?.close().catch(() => undefined);
    await tasty.close().catch(() => undefined);
    await ibkr.close().catch(() => undefined);
    await alpaca.close().catch(() => undefined);
  }
}

/** The risk timeline this run recorded, summed across accounts and brokers. */
async function timelineText(storage: Storage, from: number, bucketMs: number): Promise<string> {
  const range = resolveTimelineRange(from, Date.now(), bucketMs);
  const query: TimelineQuery = { ...range, bucketMs, staleMs: TIMELINE_DEFAULTS.staleMs, allAccounts: true };
  const rows = await riskTimeline(storage, query);
  return `\n${timelineHeader(query)}\n${timelineTable(rows, false)}`;
}

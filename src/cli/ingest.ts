import { resolve } from 'node:path';
import { type ClusterMember, startCluster } from '../app/cluster.js';
import type { ActorSpec } from '../actors/supervisor.js';
import { ConfigError } from '../core/errors.js';
import { readAppConfig } from '../app/config.js';
import { checkBrokerConfigs, Pipeline, type StopReport } from '../app/pipeline.js';
import { checkBrokersReachable } from '../app/preflight.js';
import { riskForRedis } from '../app/risk.js';
import { loadRules, resolveBenchmark } from '../risk/rules.js';
import { BROKER_IDS, parseBrokerList, pluginFlagHelp, pluginFlagNames } from '../brokers/registry.js';
import { createLogger } from '../core/logger.js';
import { configFor, DEMO_FLAG_HELP, openTargetStorage, resolveDataTarget } from '../app/target.js';
import type { ProcessorStats } from '../core/processor.js';
import { durationMs, parseArgs, type Flags } from './args.js';
import { fmtMs } from './output.js';

/** The flags every plugin declares in its manifest (src/brokers/<id>/manifest.ts). */
export const PLUGIN_FLAGS = pluginFlagNames();

export { clusterUnits } from '../app/cluster.js';

const REAL_BROKERS = BROKER_IDS.filter((id) => id !== 'sim').join(', ');

export const INGEST_HELP = `Usage: npm run ingest -- --broker=<id|list|all> [--duration=SECONDS] [options]

Streams Greeks and quotes for every open option position of the configured broker
accounts and persists them (DATABASE_URL, or the embedded PostgreSQL in DATA_DIR/pg,
started on demand and shared with the other commands).

  --broker=ID        ${REAL_BROKERS}, a comma list, or all (every real broker); required.
                     sim = the synthetic broker (its rows: npm run db -- purge --broker=sim)
  --duration=S       stop cleanly after S seconds (flush, exit 0); also 500ms, 5m, 2h
  --status-every=S   status line period (default 5s)
  --cluster          share the stream units with the other ingest --cluster processes (hosts) of
                     this configuration through leases in PostgreSQL: each unit streamed by one
                     process, a dead one's taken over within CLUSTER_LEASE_MS + CLUSTER_HEARTBEAT_MS
                     (15 + 5 s). Units: one per account for sim (SIM-n) and tasty (TASTY_ACCOUNTS);
                     broker:* for alpaca (one key = one account), ibkr (the gateway session) and
                     tasty without TASTY_ACCOUNTS. Owners: npm run db -- cluster
  --record=DIR       also write every inbound wire message of every actor to DIR (NDJSON, one
                     file per actor and day, secrets stripped): replay with npm run replay -- DIR
${pluginFlagHelp()}
  ${DEMO_FLAG_HELP.replace('read', 'write to')}
  --help             this text

Without --duration it runs until SIGINT/SIGTERM, then stops the actors, writes every
accepted row (or journals it at once when the database is failing) and exits 0.
Exit code 2 = bad flag, configuration or unreachable database; 3 = the journal could not
be written (rows may be lost: the summary says how many); 1 = a broker never started.
Configuration is read from the environment: see README.md (Configuration).`;

/** The actors --broker asks for. Without a default, a missing --broker is an error (never a silent simulator). */
export function actorSpecs(flags: Flags, dflt?: string): ActorSpec[] {
  const brokerFlags: Flags = {};
  for (const k of PLUGIN_FLAGS) if (flags[k] !== undefined) brokerFlags[k] = flags[k];
  const raw = typeof flags.broker === 'string' ? flags.broker : dflt;
  if (raw === undefined) throw new ConfigError(`--broker is missing: use one of ${REAL_BROKERS}, a comma list, or all`);
  const recordDir = typeof flags.record === 'string' && flags.record !== '' ? resolve(flags.record) : undefined;
  return parseBrokerList(raw).map((id) => ({ id, broker: id, flags: brokerFlags, ...(recordDir ? { recordDir } : {}) }));
}

export async function runIngest(argv: string[]): Promise<number> {
  const flags = parseArgs(argv, 'ingest', ['help', 'broker', 'duration', 'status-every', 'demo', 'record', 'cluster', ...PLUGIN_FLAGS]);
  if (flags.record === true || flags.record === '') throw new ConfigError('--record needs a folder: --record=DIR');
  if (flags.help) {
    process.stdout.write(`${INGEST_HELP}\n`);
    return 0;
  }
  const specs = actorSpecs(flags);
  const duration = durationMs(flags, 'duration', undefined);
  const statusEvery = durationMs(flags, 'status-every', 5000)!;
  const target = resolveDataTarget({ demo: flags.demo === true });
  const config = configFor(target, readAppConfig());
  await checkBrokerConfigs(specs);
  await checkBrokersReachable(specs);
  // With REDIS_URL the rules are read (a bad RISK_RULES_FILE stops here, exit 2): the fan-out carries risk.
  const redisRules = config.redisUrl ? { rules: loadRules(), benchmark: resolveBenchmark(undefined) } : undefined;
  const log = createLogger({ name: 'ingest' });
  const storage = await openTargetStorage(target, log, { retentionDays: config.retentionDays });
  const pipeline = new Pipeline({ storage, config, log });
  const stopRedisRisk = redisRules ? riskForRedis(pipeline, storage, log, redisRules) : undefined;

  let stopping: Promise<number> | undefined;
  const stop = (why: string) => {
    stopping ??= (async () => {
      log.info({ why }, 'stopping: closing streams and writing every accepted row');
      // Read before stopping: a stopped actor no longer says why it never came up.
      await member?.stop(); // streams stop, leases released: the others take them at their next heartbeat
      const neverStarted = member ? [] : pipeline.supervisor.status().filter((a) => !a.everStarted);
      stopRedisRisk?.();
      const report = await pipeline.stop();
      clearInterval(statusTimer);
      const s = pipeline.processor.stats();
      const journalErrors = s.flush.journalWriteErrors + s.trades.journalWriteErrors + s.positions.journalWriteErrors;
      log.info({
        rowsWritten: s.flush.rowsWritten, duplicates: s.drops.duplicate + s.drops.duplicate_db, drops: s.drops, latency: s.latency,
        journaledRows: report.journaledRows, lostRows: report.lostRows, journalWriteErrors: journalErrors,
        trades: { written: s.trades.rowsWritten, rejected: s.trades.rejected, acceptedToJournal: s.tradesAcceptedToJournal },
        positions: { setsWritten: s.positions.rowsWritten, writeErrors: s.positionWriteErrors, rejected: s.positions.rejected },
        deadLettered: s.deadLettered,
      }, 'ingest finished');
      printSummary(pipeline, report);
      await storage.close();
      // A broker that never streamed is a failed run, not an empty success.
      for (const a of neverStarted) process.stderr.write(`riskwire ingest: broker ${a.broker} never started: ${a.lastError ?? 'no reason given'}\n`);
      // A journal that refused a write is a failed run even when the rows got through later.
      if (report.lostRows > 0 || journalErrors > 0) return 3;
      return neverStarted.length > 0 ? 1 : 0;
    })();
    return stopping;
  };
  let signals = 0;
  let stoppedBySignal!: (done: Promise<number>) => void;
  const signalStop = new Promise<number>((resolve) => (stoppedBySignal = resolve));
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) {
      log.error({ sig }, 'second signal: exiting now; rows not yet written are in the journal or lost (see specs/reliability.md)');
      process.exit(1);
    }
    stoppedBySignal(stop(sig));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  let member: ClusterMember | undefined;
  if (flags.cluster === true) member = startCluster(pipeline, storage, specs, config, log);
  else for (const spec of specs) await pipeline.startActor(spec);
  const statusTimer = setInterval(() => printStatus(pipeline, log), statusEvery);
  log.info({ brokers: specs.map((s) => s.broker), durationMs: duration ?? null, database: target.label }, 'ingesting');

  if (duration !== undefined) {
    await Promise.race([new Promise((r) => setTimeout(r, duration)), new Promise<void>((r) => process.once('SIGUSR2', () => r())), signalStop]);
    return stop('duration reached');
  }
  // Settles when a signal's stop() has finished, so main() exits with its code: a handle left
  // open (a socket to a database that went away) cannot keep the process alive.
  return signalStop;
}

let lastRows = 0;
let lastAt = Date.now();

function printStatus(pipeline: Pipeline, log: ReturnType<typeof createLogger>): void {
  const s = pipeline.processor.stats();
  const now = Date.now();
  const rate = ((s.flush.rowsWritten - lastRows) * 1000) / Math.max(1, now - lastAt);
  lastRows = s.flush.rowsWritten;
  lastAt = now;
  const actors = pipeline.supervisor.status().map((a) => `${a.id}:${a.state}${a.restarts ? `(restarts ${a.restarts})` : ''}`).join(' ');
  const drops = Object.entries(s.drops).filter(([, n]) => n > 0).map(([k, n]) => `${k}=${n}`).join(',') || 'none';
  if (process.stderr.isTTY) {
    process.stderr.write(`[status] ${actors} | rows ${s.flush.rowsWritten} (${rate.toFixed(0)}/s) pending ${s.flush.pending} | drops ${drops} | p95 ${fmtMs(s.latency.p95)}\n`);
  } else {
    log.info({ actors: pipeline.supervisor.status().map((a) => ({ id: a.id, state: a.state, restarts: a.restarts, eventsIn: a.eventsIn })), rowsWritten: s.flush.rowsWritten, rowsPerSec: Math.round(rate), pending: s.flush.pending, drops: s.drops, p95Ms: s.latency.p95 }, 'status');
  }
}

export function summaryLines(s: ProcessorStats, report: StopReport): string[] {
  const lines = [
    `ingest done: ${s.eventsIn} events in, ${s.flush.rowsWritten} rows written, ${s.drops.duplicate + s.drops.duplicate_db} duplicates dropped, ${s.outOfOrder} out of order (stored)`,
    `  drops: ${JSON.stringify(s.drops)}`,
    `  latency received→persisted: p50 ${fmtMs(s.latency.p50)}  p95 ${fmtMs(s.latency.p95)}  p99 ${fmtMs(s.latency.p99)}`,
    `  trades: ${s.trades.rowsWritten} written, ${s.trades.rejected} rejected, ${s.tradesAcceptedToJournal} accepted into the journal; position sets: ${s.positions.rowsWritten} written, ${s.positionWriteErrors} write errors, ${s.positions.rejected} rejected`,
  ];
  const rejected = s.flush.rejected + s.trades.rejected + s.positions.rejected;
  if (rejected > 0) lines.push(`  ${rejected} rows refused by the database for their content: kept with the reason in JOURNAL_DIR/dead-letter.jsonl (${s.deadLettered} recorded)`);
  const badLines = s.flush.journalBadLines + s.trades.journalBadLines + s.positions.journalBadLines;
  const setAside = s.flush.journalSetAside + s.trades.journalSetAside + s.positions.journalSetAside;
  if (badLines + setAside > 0) lines.push(`  journal: ${badLines} bad lines and ${setAside} unreadable segments moved to JOURNAL_DIR/quarantine/`);
  const journalErrors = s.flush.journalWriteErrors + s.trades.journalWriteErrors + s.positions.journalWriteErrors;
  if (journalErrors > 0 || report.lostRows > 0) {
    const why = report.journalError ?? s.flush.lastJournalError ?? s.trades.lastJournalError ?? s.positions.lastJournalError;
    lines.push(`  JOURNAL WRITE FAILED ${journalErrors} times (${why}); ${report.lostRows} rows LOST: fix JOURNAL_DIR (space, permissions)`);
  }
  if (report.journaledRows > 0) lines.push(`  ${report.journaledRows} rows could not be written in time and wait in the journal (JOURNAL_DIR); the next run writes them`);
  return lines;
}

function printSummary(pipeline: Pipeline, report: StopReport): void {
  process.stderr.write(`${summaryLines(pipeline.processor.stats(), report).join('\n')}\n`);
}

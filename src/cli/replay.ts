import { resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { readAppConfig } from '../app/config.js';
import { Pipeline } from '../app/pipeline.js';
import { advanceTo, driveReplay, readRecordings, ReplayFeed, type Recording } from '../brokers/kit/replay.js';
import { BROKER_IDS, loadPlugin, parseBrokerList } from '../brokers/registry.js';
import { ManualClock } from '../core/clock.js';
import { ConfigError, errorText } from '../core/errors.js';
import { createLogger, type Logger } from '../core/logger.js';
import { openStorage } from '../db/index.js';
import { parseArgs } from './args.js';

export const REPLAY_HELP = `Usage: npm run replay -- DIR [--speed=N | --max] [--broker=ID[,ID]]

Feeds a session recorded with \`npm run ingest -- --record=DIR\` through the same broker decode
path and processor into the database (DATABASE_URL, or the embedded one), producing the rows the
live run produced. Each recorded stream runs on a manual clock set to every message's receipt time.

  --speed=N     replay at N times real time (0.5 = half speed)
  --max         as fast as possible (default)
  --broker=ID   only these brokers' recordings: ${BROKER_IDS.join(', ')}, or a comma list
  --help        this text

Exit code 2 = bad flag, a folder without recordings, or an unreachable database.`;

/** How long the replayed streams' stop() may drain on the manual clock. */
const STOP_DRAIN_MS = 5_000;

export async function runReplay(argv: string[]): Promise<number> {
  const dirArg = argv[0] !== undefined && !argv[0].startsWith('--') ? argv[0] : undefined;
  const flags = parseArgs(dirArg ? argv.slice(1) : argv, 'replay', ['help', 'speed', 'max', 'broker']);
  if (flags.help) {
    process.stdout.write(`${REPLAY_HELP}\n`);
    return 0;
  }
  if (!dirArg) throw new ConfigError('replay needs the recording folder: npm run replay -- DIR (written by npm run ingest -- --record=DIR)');
  const dir = resolve(dirArg);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`${dirArg} is not a folder: give the folder passed to --record`);
  const speed = flags.max ? undefined : flags.speed === undefined ? undefined : Number(flags.speed);
  if (speed !== undefined && !(speed > 0)) throw new ConfigError(`--speed=${String(flags.speed)} is not valid: use a number above 0 (2 = twice real time), or --max`);
  const brokers = flags.broker ? parseBrokerList(String(flags.broker)) : null;
  const sessions = readRecordings(dir).filter((r) => !brokers || brokers.includes(r.meta.broker));
  if (sessions.length === 0) throw new ConfigError(`no recordings${brokers ? ` of ${brokers.join(', ')}` : ''} in ${dirArg}: record with npm run ingest -- --record=${dirArg}`);

  const config = readAppConfig();
  const log = createLogger({ name: 'replay' });
  const storage = await openStorage({ databaseUrl: config.databaseUrl, pgliteDir: config.pgliteDir, log, retentionDays: config.retentionDays });
  const pipeline = new Pipeline({ storage, config, log });
  let records = 0;
  try {
    for (const session of sessions) records += (await replaySession(session, pipeline, log, speed)).records;
  } finally {
    await pipeline.stop();
    await storage.close();
  }
  const s = pipeline.processor.stats();
  process.stderr.write(`replay done: ${sessions.length} stream session(s), ${records} wire records, ${s.eventsIn} events in, ${s.flush.rowsWritten} rows written, ${s.drops.duplicate + s.drops.duplicate_db} duplicates dropped\n`);
  return 0;
}

/** One recorded stream instance: build it over replay transports, drive it, stop it. */
export async function replaySession(session: Recording, pipeline: Pipeline, log: Logger, speed?: number): Promise<{ records: number; early: number }> {
  const { meta, records } = session;
  const plugin = await loadPlugin(meta.broker);
  if (!plugin.replay) throw new ConfigError(`recordings of broker ${meta.broker} cannot be replayed yet`);
  const clock = new ManualClock(meta.startedAt);
  const feed = new ReplayFeed();
  const slog = log.child({ actor: meta.actor, recording: meta.session });
  const stream = plugin.replay(meta.config, { emit: (e) => pipeline.processor.ingest([e]), log: slog, clock }, feed);
  const started = stream.start().catch((err: unknown) => slog.warn({ err: errorText(err) }, 'replayed stream did not start (as live?)'));
  const { early } = await driveReplay(clock, records, feed, { speed });
  // Records nobody asked for: the replayed stream took another path than the live one.
  if (early > 0) slog.warn({ records: early }, 'replay: records arrived before the stream asked for them');
  await started;
  const stopping = stream.stop();
  await advanceTo(clock, clock.now() + STOP_DRAIN_MS);
  await stopping;
  slog.info({ records, files: session.files }, 'session replayed');
  return { records: records.length, early };
}

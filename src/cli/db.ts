import { createInterface } from 'node:readline/promises';
import { resolveDataTarget, openTargetStorage, type DataTarget } from '../app/target.js';
import { parseBrokerList } from '../brokers/registry.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { embeddedStatus, stopEmbedded } from '../db/embedded/server.js';
import { purgeBroker, countBrokerRows } from '../db/purge.js';
import { clusterStatus } from '../app/cluster.js';
import { parseArgs } from './args.js';
import { table } from './output.js';

export const DB_HELP = `Usage: npm run db -- status|stop|purge|cluster|rollup [--demo] [--broker=ID] [--yes] [--json]

The embedded database: one PostgreSQL server under DATA_DIR (default ./.data) that the
first command needing it starts and every later command shares (specs/storage.md).

  status            where the databases are, whether they run (pid, port), rows per broker
  stop              stop the embedded server (the next command starts it again)
  cluster           ingest --cluster: which member streams which unit, the members, takeover gaps (--json)
  rollup            run the history rollup now (greek_rollup; the writer runs it every minute)
  purge --broker=ID delete every row of one broker (snapshots, positions, trades) from the
                    real record, or with --demo from the demo's database; asks first at a
                    terminal, needs --yes otherwise
  --demo            the demo's database (DATA_DIR/demo) instead of the real record
  --yes             purge without asking
  --help            this text

status and purge use DATABASE_URL when it is set; stop only concerns the embedded server.`;

const say = (line: string) => process.stdout.write(`${line}\n`);

export async function runDb(argv: string[]): Promise<number> {
  const action = argv[0] && !argv[0].startsWith('--') ? argv[0] : undefined;
  const flags = parseArgs(action ? argv.slice(1) : argv, 'db', ['help', 'demo', 'broker', 'yes', 'json']);
  if (flags.help || !action) {
    if (!flags.help) throw new ConfigError('npm run db needs an action: status, stop or purge (see npm run db -- --help)');
    say(DB_HELP);
    return 0;
  }
  if (action === 'status') return status(flags.demo === true);
  if (action === 'stop') return stop(flags.demo === true);
  if (action === 'cluster') return cluster(resolveDataTarget({ demo: flags.demo === true }), flags.json === true);
  if (action === 'rollup') return rollupNow(resolveDataTarget({ demo: flags.demo === true }));
  if (action === 'purge') return purge(resolveDataTarget({ demo: flags.demo === true }), flags.broker, flags.yes === true);
  throw new ConfigError(`unknown action "${action}": use status, stop, purge, cluster or rollup (see npm run db -- --help)`);
}

async function status(demoOnly: boolean): Promise<number> {
  const targets = demoOnly ? [resolveDataTarget({ demo: true })] : [resolveDataTarget(), resolveDataTarget({ demo: true })];
  for (const t of targets) {
    const name = t.demo ? t.label : `record: ${t.label}`; // the demo's label says "demo database: ..."
    if (!t.embeddedDir) {
      say(name);
      continue;
    }
    const s = await embeddedStatus(t.embeddedDir);
    const state = s.running ? `running (pid ${s.running.pid}, port ${s.running.port}, PostgreSQL ${s.version})` : s.initialised ? 'stopped' : 'not created yet';
    say(`${name}: ${state}`);
    if (s.running) say(`  ${await rowsLine(t)}`);
  }
  return 0;
}

async function rowsLine(t: DataTarget): Promise<string> {
  const storage = await openTargetStorage(t, createLogger({ name: 'db', level: 'silent' }), { maxConnections: 1 });
  try {
    const rows = await storage.query<{ broker: string; n: number }>('SELECT broker, count(*) AS n FROM greek_snapshots GROUP BY broker ORDER BY broker');
    const total = rows.reduce((a, r) => a + Number(r.n), 0);
    return `greek_snapshots: ${total} rows${rows.length ? ` (${rows.map((r) => `${r.broker} ${r.n}`).join(', ')})` : ''}`;
  } finally {
    await storage.close();
  }
}

async function stop(demoOnly: boolean): Promise<number> {
  const targets = demoOnly ? [resolveDataTarget({ demo: true })] : [resolveDataTarget(), resolveDataTarget({ demo: true })];
  for (const t of targets) {
    if (!t.embeddedDir) continue;
    say(`${t.demo ? 'demo' : 'record'}: ${(await stopEmbedded(t.embeddedDir)) ? 'stopped' : 'was not running'} (${t.embeddedDir})`);
  }
  return 0;
}

async function purge(t: DataTarget, rawBroker: unknown, yes: boolean): Promise<number> {
  if (typeof rawBroker !== 'string' || !rawBroker.trim()) throw new ConfigError('purge needs --broker=ID (for example --broker=sim)');
  const [broker, ...more] = parseBrokerList(rawBroker);
  if (more.length > 0) throw new ConfigError('purge takes one broker at a time: --broker=ID');
  const storage = await openTargetStorage(t, createLogger({ name: 'db', level: 'silent' }), { maxConnections: 2 });
  try {
    const counts = await countBrokerRows(storage, broker);
    const total = counts.snapshots + counts.positions + counts.trades;
    const what = `${counts.snapshots} snapshots, ${counts.positions} positions, ${counts.trades} trades of broker ${broker} in ${t.label}`;
    if (total === 0) {
      say(`nothing to purge: 0 rows of broker ${broker} in ${t.label}`);
      return 0;
    }
    if (!yes) {
      if (!process.stdin.isTTY) throw new ConfigError(`purge would delete ${what}: add --yes to confirm`);
      const rl = createInterface({ input: process.stdin, output: process.stdout });
      const answer = await rl.question(`delete ${what}? [y/N] `);
      rl.close();
      if (!/^y(es)?$/i.test(answer.trim())) {
        say('nothing deleted');
        return 0;
      }
    }
    const done = await purgeBroker(storage, broker);
    say(`deleted ${done.snapshots} snapshots, ${done.positions} positions, ${done.trades} trades of broker ${broker} from ${t.label}`);
    return 0;
  } finally {
    await storage.close();
  }
}

/** ingest --cluster: who owns which unit, and the members (live or expired). */
async function cluster(t: DataTarget, json: boolean): Promise<number> {
  const storage = await openTargetStorage(t, createLogger({ name: 'db', level: 'silent' }), { maxConnections: 1 });
  try {
    const now = Date.now();
    const s = await clusterStatus(storage, now);
    if (json) {
      say(JSON.stringify({
        leases: s.leases.map((l) => ({ unit: l.unit, covers: l.covers, owner: l.owner, live: l.live, generation: l.generation, acquired_at: iso(l.acquiredAt), heartbeat_at: iso(l.heartbeatAt), expires_at: iso(l.expiresAt), previous_owner: l.previousOwner, takeover_gap_ms: l.gapMs !== null && l.gapMs >= 0 ? l.gapMs : null })),
        members: s.members.map((m) => ({ member: m.member, host: m.host, pid: m.pid, live: m.live, started_at: iso(m.startedAt), heartbeat_at: iso(m.heartbeatAt), units: m.units })),
      }));
      return 0;
    }
    if (s.leases.length === 0 && s.members.length === 0) {
      say(`no ingest --cluster member has run against ${t.label}`);
      return 0;
    }
    say(table(['unit', 'covers', 'owner', 'state', 'since', 'expires in', 'takeover gap'], s.leases.map((l) => [
      l.unit, l.covers, l.owner, l.live ? 'streaming' : 'free (expired or released)', iso(l.acquiredAt), l.live ? `${((l.expiresAt - now) / 1000).toFixed(1)} s` : '-',
      l.gapMs !== null && l.gapMs >= 0 ? `${(l.gapMs / 1000).toFixed(1)} s from ${l.previousOwner}` : '-',
    ])));
    say('');
    say(table(['member', 'host', 'pid', 'state', 'last heartbeat', 'units'], s.members.map((m) => [
      m.member, m.host, String(m.pid), m.live ? 'live' : 'gone', iso(m.heartbeatAt), m.units.join(' ') || '-',
    ])));
    return 0;
  } finally {
    await storage.close();
  }
}

/** One run of the history rollup now (the writer runs it every minute). */
async function rollupNow(t: DataTarget): Promise<number> {
  const storage = await openTargetStorage(t, createLogger({ name: 'db', level: 'silent' }), { maxConnections: 1 });
  try {
    const r = await storage.rollup!();
    say(r.ran ? `rollup: ${r.rows[60]} minute rows and ${r.rows[3600]} hour rows upserted; watermark ${iso(r.watermark!)}` : 'rollup: another process is running it; nothing done');
    return 0;
  } finally {
    await storage.close();
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

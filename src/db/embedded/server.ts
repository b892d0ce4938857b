/**
 * The embedded PostgreSQL every command shares: one real server per folder (DATA_DIR/pg, and
 * DATA_DIR/demo/pg for the demo), started by whichever command needs it first and left running
 * for the next ones; `npm run db -- stop` stops it.
 *
 *   <dir>/data          the cluster (initdb'd on first use); data/postmaster.pid is the pid/port file
 *   <dir>/server.log    the server's log
 *   <dir>/password      the superuser password (mode 0600), made at initdb
 *   <dir>/start.lock    held while one process initialises or starts the server
 *
 * The server listens on 127.0.0.1 only (a free port chosen at start), no Unix socket, password auth.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chown, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import postgres from 'postgres';
import { ConfigError, errorText } from '../../core/errors.js';
import { pgBinaries } from './binaries.js';
import { waitLock, pidAlive } from './lock.js';
import { serverUser, type RunAs } from './owner.js';
import { sleep, systemClock } from '../../core/clock.js';

export const EMBEDDED_DB = 'riskwire';
const SUPERUSER = 'postgres';

/** Settings for a small, local, single-user server (summed RSS matters more than throughput). */
const SERVER_CONF = `
# riskwire embedded defaults
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
max_connections = 100
shared_buffers = 4MB
wal_buffers = 512kB
# no I/O worker processes, no logical replication launcher: fewer resident processes
io_method = sync
max_logical_replication_workers = 0
jit = off
logging_collector = off
log_min_messages = warning
log_checkpoints = off
`;

/**
 * Memory settings given on the command line at every start, so a cluster initialised by an
 * older version gets them too. Each process maps the shared buffers it touches (RSS counts them
 * once per process): smaller buffers keep the summed RSS of the server's processes down (D89).
 * The data lives in the OS page cache either way; a server tuned for size is DATABASE_URL's job.
 */
export const START_SETTINGS: Readonly<Record<string, string>> = {
  shared_buffers: '4MB',
  wal_buffers: '512kB', // what 16MB of shared buffers gave (1/32); 4MB alone would make it 128kB
};

/** The `-o` options of pg_ctl start (after -p PORT). */
export function startOptions(): string {
  return Object.entries(START_SETTINGS).map(([k, v]) => `-c ${k}=${v}`).join(' ');
}

export interface EmbeddedStatus {
  dir: string;
  initialised: boolean;
  running: { pid: number; port: number } | null;
  version: string | null;
}

interface PidFile {
  pid: number;
  port: number;
  status: string;
}

/** postmaster.pid: line 1 pid, line 4 port, line 8 status (starting / ready / stopping). */
export function parsePidFile(text: string): PidFile | undefined {
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  return { pid, port, status: (lines[7] ?? '').trim() };
}

async function readPidFile(dataDir: string): Promise<PidFile | undefined> {
  const text = await readFile(join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  const parsed = text === undefined ? undefined : parsePidFile(text);
  return parsed && pidAlive(parsed.pid) ? parsed : undefined;
}

export async function embeddedStatus(dirIn: string): Promise<EmbeddedStatus> {
  const dir = resolve(dirIn);
  const dataDir = join(dir, 'data');
  const version = (await readFile(join(dataDir, 'PG_VERSION'), 'utf8').catch(() => '')).trim() || null;
  const pf = await readPidFile(dataDir);
  return { dir, initialised: version !== null, running: pf && pf.status === 'ready' ? { pid: pf.pid, port: pf.port } : null, version };
}

function run(cmd: string, args: string[], who: RunAs | undefined): Promise<{ code: number; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(cmd, args, {
      ...(who ?? {}),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
      // pg_ctl forks the server; detached keeps it out of our process group, so a Ctrl-C to
      // this command does not reach the shared server.
      detached: true,
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? 1, output }));
  });
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => done(port));
    });
  });
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(-300);

async function initialise(dir: string, dataDir: string, who: RunAs | undefined, bins: { initdb: string }): Promise<void> {
  await rm(dataDir, { recursive: true, force: true }); // a half-made cluster from an interrupted initdb
  const password = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'initdb-password');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (who) await chown(pwfile, who.uid, who.gid);
  try {
    const r = await run(bins.initdb, ['-D', dataDir, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', '--no-instructions'], who);
    if (r.code !== 0) {
      if (who && /permission denied/i.test(r.output)) {
        throw new ConfigError(`the embedded PostgreSQL runs as user postgres (we are root), and that user cannot enter ${dir}: make every folder above it enterable (chmod o+x), pick another DATA_DIR, or set DATABASE_URL`);
      }
      throw new ConfigError(`initdb failed in ${dataDir}: ${oneLine(r.output)}: pick another DATA_DIR, or set DATABASE_URL`);
    }
  } finally {
    await rm(pwfile, { force: true });
  }
  await writeFile(join(dataDir, 'postgresql.conf'), SERVER_CONF, { flag: 'a' });
  await writeFile(join(dir, 'password'), `${password}\n`, { mode: 0o600 });
}

async function startServer(dir: string, dataDir: string, who: RunAs | undefined, bins: { pgCtl: string }): Promise<PidFile> {
  let last = '';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const r = await run(bins.pgCtl, ['start', '-D', dataDir, '-l', join(dir, 'server.log'), '-w', '-t', '120', '-s', '-o', `-p ${port} ${startOptions()}`], who);
    const pf = await readPidFile(dataDir);
    if (r.code === 0 && pf) return pf;
    last = oneLine(`${r.output} ${await readFile(join(dir, 'server.log'), 'utf8').then((t) => t.split('\n').slice(-4).join(' '), () => '')}`);
    if (!/could not bind|address already in use/i.test(last)) break; // only a lost port race is worth another try
  }
  throw new ConfigError(`the embedded PostgreSQL in ${dataDir} did not start (${last}): see ${join(dir, 'server.log')}, or set DATABASE_URL`);
}

export function embeddedUrl(port: number, password: string, db = EMBEDDED_DB): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
}

async function ensureDatabase(port: number, password: string): Promise<void> {
  const sql = postgres(embeddedUrl(port, password, 'postgres'), { max: 1, onnotice: () => {}, connect_timeout: 10 });
  try {
    const [row] = await sql`SELECT count(*)::int AS n FROM pg_database WHERE datname = ${EMBEDDED_DB}`;
    if (row.n === 0) await sql.unsafe(`CREATE DATABASE ${EMBEDDED_DB}`);
  } finally {
    await sql.end({ timeout: 2 });
  }
}

async function readPassword(dir: string): Promise<string> {
  const pw = (await readFile(join(dir, 'password'), 'utf8').catch(() => '')).trim();
  if (!pw) throw new ConfigError(`the embedded database in ${dir} has no password file (made by another tool?): remove ${dir} to start afresh, or set DATABASE_URL`);
  return pw;
}

/**
 * Returns a connection URL for the embedded server in `dir`, initialising and starting it when
 * no process has yet. Concurrent callers queue on <dir>/start.lock; the server itself (through
 * its postmaster.pid) guarantees one postmaster per cluster.
 */
export async function ensureEmbedded(dirIn: string): Promise<{ url: string; started: boolean; port: number }> {
  const dir = resolve(dirIn);
  const dataDir = join(dir, 'data');
  const running = await readPidFile(dataDir);
  if (running?.status === 'ready') return { url: embeddedUrl(running.port, await readPassword(dir)), started: false, port: running.port };

  const who = await serverUser();
  const bins = await pgBinaries();
  try {
    await mkdir(dir, { recursive: true });
    if (who) await chown(dir, who.uid, who.gid);
  } catch (err) {
    throw new ConfigError(`cannot create the embedded database folder ${dir} (${errorText(err)}): point DATA_DIR at a writable folder, or set DATABASE_URL`);
  }
  const lock = await waitLock(join(dir, 'start.lock'), 120_000, (pid) => new ConfigError(`the embedded database in ${dir} has been starting in process ${pid} for 2 minutes: see ${join(dir, 'server.log')}, stop that process, or set DATABASE_URL`));
  try {
    let pf = await readPidFile(dataDir);
    // A server mid-start or mid-stop (another tool, or `db stop` racing us): give it a moment.
    for (let i = 0; pf && pf.status !== 'ready' && i < 100; i++) {
      await sleep(systemClock, 100);
      pf = await readPidFile(dataDir);
    }
    let started = false;
    if (!pf || pf.status !== 'ready') {
      const initialised = await stat(join(dataDir, 'PG_VERSION')).then(() => true, () => false);
      if (!initialised) await initialise(dir, dataDir, who, bins);
      pf = await startServer(dir, dataDir, who, bins);
      started = true;
    }
    const password = await readPassword(dir);
    await ensureDatabase(pf.port, password);
    return { url: embeddedUrl(pf.port, password), started, port: pf.port };
  } finally {
    await lock.release();
  }
}

/** Stops the server in `dir` (fast shutdown: open sessions are ended). False when it was not running. */
export async function stopEmbedded(dirIn: string): Promise<boolean> {
  const dir = resolve(dirIn);
  const dataDir = join(dir, 'data');
  if (!(await readPidFile(dataDir))) return false;
  const bins = await pgBinaries();
  const r = await run(bins.pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60', '-s'], await serverUser());
  if (r.code !== 0 && (await readPidFile(dataDir))) throw new ConfigError(`could not stop the embedded PostgreSQL in ${dataDir}: ${oneLine(r.output)}`);
  return true;
}

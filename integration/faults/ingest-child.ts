/**
 * `npm run ingest` as a child process for the process-death faults (SIGTERM, SIGKILL): its
 * database reached through a TCP proxy the test can cut, its own journal folder, and its JSON
 * log lines (stderr) parsed so the test can read the last status line the process printed.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { runCli, type CliRun } from '../helpers/cli.js';
import { freshPostgresUrl } from '../helpers/pg.js';
import { startProxy, type TcpProxy } from '../helpers/proxy.js';

export interface LogLine {
  msg?: string;
  [k: string]: unknown;
}

export interface StatusLine extends LogLine {
  actors: { id: string; state: string; restarts: number; eventsIn: number }[];
  rowsWritten: number;
  pending: number;
}

export function logLines(run: CliRun): LogLine[] {
  const out: LogLine[] = [];
  for (const line of run.stderr().split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      /* a line cut by SIGKILL */
    }
  }
  return out;
}

export const statusLines = (run: CliRun) => logLines(run).filter((l): l is StatusLine => l.msg === 'status');
export const lastStatus = (run: CliRun): StatusLine | undefined => statusLines(run).at(-1);

/**
 * True once a `--count=N` sim run has handed over everything: at least N events in (one per
 * greeks update; underlying quotes are conflated per frame, so there is no exact total) and
 * neither events nor pending rows changed over the last `lines` status lines.
 */
export function simSettled(run: CliRun, count: number, lines = 20): boolean {
  const tail = statusLines(run).slice(-lines);
  if (tail.length < lines) return false;
  const first = tail[0];
  return (first.actors[0]?.eventsIn ?? 0) >= count && tail.every((l) => l.actors[0]?.eventsIn === first.actors[0]?.eventsIn && l.pending === first.pending);
}

/** A fresh database behind a proxy, a journal folder, and a direct connection for checks. */
export interface Rig {
  proxy: TcpProxy;
  journalDir: string;
  /** Direct (not proxied) client for assertions. */
  sql: postgres.Sql;
  /** Env for an ingest child: DATABASE_URL through the proxy, the rig's journal. */
  env(extra?: Record<string, string>): Record<string, string>;
  dbRows(): Promise<number>;
  /** account|contract|seq of every sim row in the database and in the journal (rows in both counted once). */
  storedKeys(): Promise<Set<string>>;
  /** Rows in journal segments on disk. */
  journalRows(): Promise<number>;
  close(): Promise<void>;
}

export async function startRig(): Promise<Rig> {
  const db = await freshPostgresUrl();
  const proxy = await startProxy(Number(new URL(db.url).port || 5432));
  const journalDir = await mkdtemp(join(tmpdir(), 'rw-fault-journal-'));
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  return {
    proxy,
    journalDir,
    sql,
    env: (extra = {}) => ({ DATABASE_URL: proxy.url(db.url), JOURNAL_DIR: journalDir, LOG_LEVEL: 'info', ...extra }),
    async dbRows() {
      const [r] = await sql`SELECT count(*)::int AS n FROM greek_snapshots`.catch(() => [{ n: 0 }]);
      return Number(r.n);
    },
    async storedKeys() {
      const keys = new Set<string>();
      for (const r of await sql`SELECT account, contract_key, seq::int AS seq FROM greek_snapshots WHERE broker = 'sim'`) keys.add(`${r.account}|${r.contract_key}|${r.seq}`);
      for (const f of await readdir(journalDir)) {
        if (!f.startsWith('seg-')) continue;
        for (const line of (await readFile(join(journalDir, f), 'utf8')).split('\n')) {
          if (!line) continue;
          const r = JSON.parse(line) as { account: string; contractKey: string; seq: number };
          keys.add(`${r.account}|${r.contractKey}|${r.seq}`);
        }
      }
      return keys;
    },
    async journalRows() {
      let n = 0;
      for (const f of await readdir(journalDir)) {
        if (!f.startsWith('seg-')) continue;
        n += (await readFile(join(journalDir, f), 'utf8')).split('\n').filter(Boolean).length;
      }
      return n;
    },
    async close() {
      await sql.end({ timeout: 1 }).catch(() => undefined);
      await proxy.close();
      await db.drop();
      await rm(journalDir, { recursive: true, force: true });
    },
  };
}

/**
 * Starts ingest again with the same database and journal, briefly and with a sim too slow to
 * produce a row (0.1 updates/s: the first would come after 10 s), so every row it writes comes
 * from the journal of the earlier run.
 */
export function replayRun(rig: Rig): CliRun {
  return runCli('ingest', ['--broker=sim', '--rate=0.1', '--accounts=1', '--duration=1'], rig.env());
}

export { runCli, type CliRun };

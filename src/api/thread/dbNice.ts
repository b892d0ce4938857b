/**
 * API_DB_NICE (D97): the API's read connections' server processes at a lower CPU priority, when
 * PostgreSQL runs on this host and the OS lets us (the same OS user, as with the embedded
 * server, or a privileged one). A backend is reniced only after proving it is ours: the pid
 * comes from `pg_backend_pid()` on that very connection, and that process's title must be a
 * postgres backend naming the connection's client port (so a server in a container, whose pids
 * are another namespace's, or a remote server is never confused with a local process).
 * Otherwise nothing happens (one debug line, then no more tries).
 */
import { readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { Logger } from 'pino';
import type { Storage } from '../../db/types.js';

const PROBE = 'SELECT pg_backend_pid() AS pid, inet_client_port() AS port, pg_sleep(0.005)';

function isLocalUrl(url: string): boolean {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') ?? u.hostname;
    return host === '' || host.startsWith('/') || host === 'localhost' || /^127\./.test(host) || host === '[::1]' || host === '::1';
  } catch {
    return false;
  }
}

/** True when local `pid` is the postgres backend serving the client port `port`. */
function isOurBackend(pid: number, port: number | null): boolean {
  try {
    const title = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return /^postgres(:| )/.test(title) && (port === null || title.includes(`(${port})`));
  } catch {
    return false;
  }
}

export interface DbNicer {
  /** Backends reniced so far (pids). */
  readonly reniced: ReadonlySet<number>;
  /** One probe of every pool connection; renices the new ones. */
  tick(): Promise<void>;
  stop(): void;
}

/**
 * Every `everyMs`, asks each of the pool's `connections` for its backend's pid (concurrently, so
 * every connection answers) and renices new ones by `nice`. Gives up for good on the first
 * refusal (EPERM: another OS user without privilege) or when the server is not local.
 */
export function startDbNice(o: { storage: Storage; url: string; nice: number; connections: number; log: Logger; everyMs?: number; setTimer?: typeof setInterval }): DbNicer {
  const reniced = new Set<number>();
  let off = !isLocalUrl(o.url) || o.nice <= 0;
  if (off && o.nice > 0) o.log.debug('API_DB_NICE: PostgreSQL is not on this host; backends keep their priority');
  const tick = async () => {
    if (off) return;
    let rows: Array<{ pid: number; port: number | null }>;
    try {
      const each = await Promise.all(Array.from({ length: o.connections }, () => o.storage.query<{ pid: number; port: number | null }>(PROBE)));
      rows = each.map((r) => r[0]);
    } catch {
      return; // the database is away: try again next time
    }
    for (const { pid, port } of rows) {
      if (reniced.has(pid) || !isOurBackend(pid, port)) continue;
      try {
        setPriority(pid, Math.min(19, getPriority(pid) + o.nice));
        reniced.add(pid);
      } catch (err) {
        off = true;
        o.log.debug({ err: String(err) }, 'API_DB_NICE: cannot renice the API\'s PostgreSQL backends (another OS user?); they keep their priority');
        return;
      }
    }
  };
  const timer = (o.setTimer ?? setInterval)(() => void tick(), o.everyMs ?? 2000);
  (timer as { unref?: () => void }).unref?.();
  return { reniced, tick, stop: () => clearInterval(timer as ReturnType<typeof setInterval>) };
}

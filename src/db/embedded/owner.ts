/**
 * Which OS user runs the embedded server. PostgreSQL refuses to run as root, so as root it runs
 * as the user `postgres` (its folder is handed to that user); otherwise as ourselves.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../core/errors.js';

export interface RunAs {
  uid: number;
  gid: number;
}

/** Parses /etc/passwd text for a user's uid and gid. */
export function passwdEntry(passwd: string, user: string): RunAs | undefined {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f.length >= 4) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

/** undefined = run as ourselves; otherwise the ids to spawn the server's programs with. */
export async function serverUser(): Promise<RunAs | undefined> {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  const entry = passwdEntry(await readFile('/etc/passwd', 'utf8').catch(() => ''), 'postgres');
  if (!entry) {
    throw new ConfigError('running as root, and PostgreSQL will not run as root: create the user postgres (useradd -m postgres) for the embedded database, run as a normal user, or set DATABASE_URL');
  }
  return entry;
}

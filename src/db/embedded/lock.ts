/**
 * An exclusive lock file holding the owner's pid: created with O_EXCL, so exactly one process
 * holds it. A lock whose pid is gone (a crashed holder) is taken over. Used to serialise the
 * first start of the embedded server, and to keep a second process off a PGlite folder.
 */
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { sleep, systemClock } from '../../core/clock.js';

export interface FileLock {
  release(): Promise<void>;
}

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function holder(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Takes the lock now, or returns the live holder's pid. */
export async function tryLock(path: string): Promise<FileLock | { heldBy: number }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fh = await open(path, 'wx', 0o644);
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      return { release: () => unlink(path).catch(() => undefined) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const pid = await holder(path);
    if (pid !== undefined && pidAlive(pid)) return { heldBy: pid };
    // A stale lock (its holder died; or it is being written right now: then the pid shows up
    // on the next read). Move it aside atomically so two takers cannot both remove a fresh one.
    if (pid === undefined) await sleep(systemClock, 50);
    if (pid === undefined && (await holder(path)) !== undefined) continue;
    await rename(path, `${path}.stale-${process.pid}`).then(() => unlink(`${path}.stale-${process.pid}`), () => undefined);
  }
  const pid = (await holder(path)) ?? 0;
  return { heldBy: pid };
}

/** Waits (polling) until the lock is free, up to timeoutMs; then throws via onTimeout. */
export async function waitLock(path: string, timeoutMs: number, onTimeout: (pid: number) => Error): Promise<FileLock> {
  const deadline = systemClock.now() + timeoutMs;
  for (;;) {
    const got = await tryLock(path);
    if ('release' in got) return got;
    if (systemClock.now() > deadline) throw onTimeout(got.heldBy);
    await sleep(systemClock, 100);
  }
}

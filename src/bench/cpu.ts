import { readFileSync } from 'node:fs';
import type { Storage } from '../db/types.js';

/**
 * CPU time per 1,000 rows of a pass: this process (all threads) and the scratch database's
 * server backends (from /proc, so only when PostgreSQL runs on this host; null otherwise). On a
 * shared machine wall-clock rates swing with the neighbours; CPU per row much less (D87).
 */
export interface CpuPerRows {
  process_ms_per_1k: number;
  server_ms_per_1k: number | null;
}

interface Mark {
  proc: NodeJS.CpuUsage;
  server: Map<number, number> | null;
}

const TICK_MS = 10; // USER_HZ = 100 on Linux

async function backendTicks(storage: Storage): Promise<Map<number, number> | null> {
  try {
    const rows = await storage.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = current_database()');
    const out = new Map<number, number>();
    for (const { pid } of rows) {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(pid, Number(f[11]) + Number(f[12]));
    }
    return out;
  } catch {
    return null; // another host, or no /proc
  }
}

export async function cpuMark(storage: Storage): Promise<Mark> {
  return { server: await backendTicks(storage), proc: process.cpuUsage() };
}

/** CPU since `from`, per 1,000 rows. Backends that ended during the pass are not counted. */
export async function cpuSince(storage: Storage, from: Mark, rows: number): Promise<CpuPerRows> {
  const proc = process.cpuUsage(from.proc);
  const server = await backendTicks(storage);
  let serverMs: number | null = null;
  if (server && from.server) {
    serverMs = 0;
    for (const [pid, t] of server) serverMs += (t - (from.server.get(pid) ?? 0)) * TICK_MS;
  }
  const per1k = (ms: number) => Math.round((ms / Math.max(1, rows)) * 1000 * 10) / 10;
  return { process_ms_per_1k: per1k((proc.user + proc.system) / 1000), server_ms_per_1k: serverMs === null ? null : per1k(serverMs) };
}

/**
 * Where the CPU goes during a window of the API-load A/B (Linux /proc; null elsewhere): this
 * process's pipeline (main) thread, the API thread, its other threads (actor workers, GC,
 * libuv), the load generator (it reports its own CPU), the scratch database's server backends by
 * application_name (`riskwire` = the pipeline's pool, `riskwire-api` = the API's read pool), and
 * the whole machine (/proc/stat), so what the neighbours took is visible beside it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Storage } from '../db/types.js';

const TICK_S = 0.01; // USER_HZ = 100 on Linux

export interface CpuMark {
  at: number;
  threads: Map<number, number>;
  backends: Map<number, { app: string; ticks: number }>;
  machine: { busy: number; total: number } | null;
}

/** Cores used over a window, per party. */
export interface CpuShare {
  pipeline_thread: number;
  api_thread: number | null;
  other_threads: number;
  pg_pipeline: number;
  pg_api: number;
  loadgen: number | null;
  /** Busy cores of the whole machine (all processes, all users). */
  machine: number | null;
  /** machine minus everything above: the neighbours (and PostgreSQL's own background processes). */
  rest: number | null;
}

function ticksOf(statPath: string): number {
  const f = readFileSync(statPath, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime
}

function threadTicks(): Map<number, number> {
  const out = new Map<number, number>();
  try {
    for (const t of readdirSync('/proc/self/task')) {
      try {
        out.set(Number(t), ticksOf(`/proc/self/task/${t}/stat`));
      } catch { /* the thread ended */ }
    }
  } catch { /* no /proc */ }
  return out;
}

function machineTicks(): { busy: number; total: number } | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: total - cpu[3] - cpu[4], total }; // minus idle and iowait
  } catch {
    return null;
  }
}

async function backendTicks(storage: Storage): Promise<Map<number, { app: string; ticks: number }>> {
  const out = new Map<number, { app: string; ticks: number }>();
  try {
    const rows = await storage.query<{ pid: number; app: string }>('SELECT pid, application_name AS app FROM pg_stat_activity WHERE datname = current_database()');
    for (const { pid, app } of rows) {
      try {
        out.set(pid, { app, ticks: ticksOf(`/proc/${pid}/stat`) });
      } catch { /* another host, or the backend ended */ }
    }
  } catch { /* no answer: no backend figures */ }
  return out;
}

export async function cpuMark(storage: Storage): Promise<CpuMark> {
  const backends = await backendTicks(storage);
  return { at: performance.now(), threads: threadTicks(), backends, machine: machineTicks() };
}

const r2 = (x: number) => Math.round(x * 100) / 100;

/** Cores per party between two marks; `apiTid` is the API thread's id (else it counts as other), `loadgenCpuS` the generator's own CPU seconds. */
export function cpuShare(a: CpuMark, b: CpuMark, apiTid: number | undefined, loadgenCpuS: number | null): CpuShare {
  const s = Math.max(1e-3, (b.at - a.at) / 1000);
  const cores = (ticks: number) => r2((ticks * TICK_S) / s);
  let main = 0, api = 0, other = 0;
  for (const [tid, t] of b.threads) {
    const d = t - (a.threads.get(tid) ?? 0);
    if (tid === process.pid) main += d;
    else if (tid === apiTid) api += d;
    else other += d;
  }
  let pgPipe = 0, pgApi = 0;
  for (const [pid, x] of b.backends) {
    const d = x.ticks - (a.backends.get(pid)?.ticks ?? 0); // one born inside the window: all of its life
    if (x.app === 'riskwire-api') pgApi += d;
    else pgPipe += d;
  }
  const machine = a.machine && b.machine ? r2(((b.machine.busy - a.machine.busy) / Math.max(1, b.machine.total - a.machine.total)) * (readCpus())) : null;
  const ours = (main + api + other + pgPipe + pgApi) * TICK_S / s + (loadgenCpuS ?? 0) / s;
  return {
    pipeline_thread: cores(main), api_thread: apiTid ? cores(api) : null, other_threads: cores(other),
    pg_pipeline: cores(pgPipe), pg_api: cores(pgApi), loadgen: loadgenCpuS === null ? null : r2(loadgenCpuS / s),
    machine, rest: machine === null ? null : r2(Math.max(0, machine - ours)),
  };
}

let cpus: number | undefined;
function readCpus(): number {
  if (cpus === undefined) {
    try {
      cpus = readFileSync('/proc/stat', 'utf8').split('\n').filter((l) => /^cpu\d+ /.test(l)).length || 1;
    } catch {
      cpus = 1;
    }
  }
  return cpus;
}

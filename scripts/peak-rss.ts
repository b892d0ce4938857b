/**
 * Peak memory of a command and every process it needs, summed: the command's process tree plus
 * the embedded PostgreSQL it starts (a detached server, so not in the tree: found through
 * DATA_DIR/pg and DATA_DIR/demo/pg postmaster.pid). Each run gets a fresh DATA_DIR (so the
 * server is initialised and started inside the run) and stops its server afterwards.
 *
 *   npx tsx scripts/peak-rss.ts [--runs=3] -- npm run demo
 *   npx tsx scripts/peak-rss.ts -- npm run ingest -- --broker=sim --duration=30
 *
 * Prints, per run and as the median with min–max: peak summed RSS (what `ps` shows; shared pages
 * are counted once per process) and peak summed PSS (shared pages split between their users).
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stopEmbedded } from '../src/db/embedded/server.js';

const sep = process.argv.indexOf('--');
const opts = process.argv.slice(2, sep < 0 ? undefined : sep);
const command = sep < 0 ? [] : process.argv.slice(sep + 1);
const runs = Number(opts.find((o) => o.startsWith('--runs='))?.split('=')[1] ?? 3);
if (command.length === 0) {
  console.error('usage: npx tsx scripts/peak-rss.ts [--runs=3] -- <command...>');
  process.exit(2);
}

function parents(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  return children;
}

function tree(root: number, children: Map<number, number[]>): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) out.push(...(children.get(out[i]) ?? []));
  return out;
}

function kb(pid: number, file: string, field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

function postmasters(dataDir: string): number[] {
  return [join(dataDir, 'pg'), join(dataDir, 'demo', 'pg')].flatMap((d) => {
    try {
      // A pid file being written reads as '' (pid 0, whose "tree" would be every process on the machine).
      const pid = Number(readFileSync(join(d, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 1 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres') ? [pid] : [];
    } catch {
      return [];
    }
  });
}

async function once(): Promise<{ rss: number; pss: number; seconds: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rw-rss-'));
  chmodSync(dataDir, 0o755);
  const env = { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', PGLITE_DIR: '', LOG_LEVEL: 'warn' };
  const started = Date.now();
  const child = spawn(command[0], command.slice(1), { env, stdio: ['ignore', 'ignore', 'inherit'] });
  let peak = { rss: 0, pss: 0 };
  let detail: string[] = [];
  const timer = setInterval(() => {
    const children = parents();
    const pids = new Set([...tree(child.pid!, children), ...postmasters(dataDir).flatMap((p) => tree(p, children))]);
    let rss = 0;
    let pss = 0;
    const parts: string[] = [];
    for (const pid of pids) {
      const r = kb(pid, 'status', 'VmRSS');
      rss += r;
      pss += kb(pid, 'smaps_rollup', 'Pss');
      if (process.env.PEAK_RSS_DETAIL) parts.push(`${(r / 1024).toFixed(0)} ${(() => { try { return readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { return '?'; } })().replace(/\0/g, ' ').slice(0, 80)}`);
    }
    if (rss > peak.rss && process.env.PEAK_RSS_DETAIL) detail = parts;
    peak = { rss: Math.max(peak.rss, rss), pss: Math.max(peak.pss, pss) };
  }, 100);
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  clearInterval(timer);
  if (detail.length) console.log(detail.join('\n'));
  await stopEmbedded(join(dataDir, 'pg')).catch(() => undefined);
  await stopEmbedded(join(dataDir, 'demo', 'pg')).catch(() => undefined);
  rmSync(dataDir, { recursive: true, force: true });
  if (code !== 0) throw new Error(`command exited ${code}`);
  return { rss: peak.rss / 1024, pss: peak.pss / 1024, seconds: (Date.now() - started) / 1000 };
}

const results: { rss: number; pss: number; seconds: number }[] = [];
for (let i = 0; i < runs; i++) {
  const r = await once();
  results.push(r);
  console.log(`run ${i + 1}: peak RSS ${r.rss.toFixed(0)} MB, peak PSS ${r.pss.toFixed(0)} MB (${r.seconds.toFixed(0)} s)`);
}
const stat = (k: 'rss' | 'pss') => {
  const v = results.map((r) => r[k]).sort((a, b) => a - b);
  return `${v[Math.floor(v.length / 2)].toFixed(0)} MB (${v[0].toFixed(0)}–${v[v.length - 1].toFixed(0)})`;
};
console.log(`${command.join(' ')}: ${runs} runs, all processes summed (embedded PostgreSQL included): median peak RSS ${stat('rss')}, median peak PSS ${stat('pss')}`);

/**
 * The API load of the bench, in its own process so its CPU is not charged to the pipeline:
 * `node --import tsx src/bench/loadgen.ts <baseUrl> <requests> <concurrency> <path>...` sends
 * `requests` GETs round-robin over the paths with `concurrency` in flight, then prints one JSON
 * line: { requests, seconds, status: {code: count}, p50_ms, p95_ms, cpu_s } (cpu_s: its own CPU in the window). It prints "ready" once
 * loaded and starts on the first line read from stdin, so its start-up is not in the window.
 */
import { once } from 'node:events';
import { createInterface } from 'node:readline';

const [base, total, concurrency, ...paths] = process.argv.slice(2);
const n = Number(total);
const status: Record<string, number> = {};
/** 5xx answers by route and the start of their error text: which limit refused them. */
const refusals: Record<string, number> = {};
const took: number[] = [];
let next = 0;

async function worker(): Promise<void> {
  for (;;) {
    const i = next++;
    if (i >= n) return;
    const t0 = performance.now();
    try {
      const path = paths[i % paths.length];
      const res = await fetch(`${base}${path}`);
      const body = await res.arrayBuffer();
      if (res.status >= 500) {
        const why = `${path} ${res.status} ${Buffer.from(body).toString('utf8', 0, 200).replace(/[0-9]+/g, 'N').slice(0, 90)}`;
        refusals[why] = (refusals[why] ?? 0) + 1;
      }
      status[res.status] = (status[res.status] ?? 0) + 1;
    } catch {
      status.error = (status.error ?? 0) + 1;
    }
    took.push(performance.now() - t0);
  }
}

process.stdout.write('ready\n');
const stdin = createInterface({ input: process.stdin });
await once(stdin, 'line');
stdin.close();
const t0 = performance.now();
const cpu0 = process.cpuUsage();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
took.sort((a, b) => a - b);
const pct = (p: number) => Math.round(took[Math.min(took.length - 1, Math.floor(p * took.length))] * 10) / 10;
process.stdout.write(`${JSON.stringify({ requests: n, seconds, status, p50_ms: pct(0.5), p95_ms: pct(0.95), refusals, cpu_s: (cpu.user + cpu.system) / 1e6 })}\n`, () => process.exit(0)); // keep-alive sockets would hold the process

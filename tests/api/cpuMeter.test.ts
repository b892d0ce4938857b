import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { threadCpuMeter } from '../../src/api/limits.js';

/**
 * API_CPU_BUDGET_PCT counts the API thread's own CPU (D96): the meter must see the calling
 * thread's on-CPU time, not the process's (a busy pipeline thread must not spend the API's budget).
 */
describe.runIf(existsSync('/proc/thread-self/schedstat'))('threadCpuMeter (Linux)', () => {
  it('counts this thread\'s CPU only: another thread burning 300 ms of CPU leaves it nearly unchanged', async () => {
    const meter = threadCpuMeter()!;
    expect(meter).toBeTypeOf('function');
    const before = meter();
    const processBefore = process.cpuUsage();
    // The other thread spins until its own on-CPU time grew by 300 ms (a CPU amount, not a duration).
    const burnt = await new Promise<number>((resolve, reject) => {
      const w = new Worker(`
        const { readFileSync } = require('node:fs');
        const { parentPort } = require('node:worker_threads');
        const cpu = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
        const start = cpu();
        let x = 0;
        while (cpu() - start < 300) for (let i = 0; i < 1e5; i++) x += Math.sqrt(i);
        parentPort.postMessage(cpu() - start + (x > 0 ? 0 : 1));
      `, { eval: true });
      w.once('message', (ms: number) => void w.terminate().then(() => resolve(ms)));
      w.once('error', reject);
    });
    const mine = meter() - before;
    const proc = process.cpuUsage(processBefore);
    expect(burnt).toBeGreaterThanOrEqual(300);
    expect((proc.user + proc.system) / 1000).toBeGreaterThanOrEqual(300); // the process did spend it
    expect(mine).toBeLessThan(100); // this thread did not
    expect(meter()).toBeGreaterThanOrEqual(before + mine); // cumulative
  });
});

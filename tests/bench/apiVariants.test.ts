import { describe, expect, it } from 'vitest';
import { variantOf } from '../../src/bench/apiReport.js';
import { cpuShare, type CpuMark } from '../../src/bench/cpuShare.js';
import { ConfigError } from '../../src/core/errors.js';

describe('bench --api-variants items (D98)', () => {
  it('default is the served limits in the API thread; overrides change only the named limits', () => {
    const served = variantOf('default');
    expect(served).toMatchObject({ name: 'as served', thread: true, readPool: true });
    const off = variantOf('API_CPU_BUDGET_PCT=0, API_DB_NICE=10');
    expect(off.limits).toEqual({ ...served.limits, cpuBudgetPct: 0, dbNice: 10 });
    expect(variantOf('API_THREAD=0').thread).toBe(false);
  });

  it('a malformed item is a ConfigError naming it', () => {
    expect(() => variantOf('API_CPU_BUDGET_PCT=two')).toThrow(ConfigError);
    expect(() => variantOf('FOO=1')).toThrow(/"FOO=1" is not API_NAME=number/);
  });
});

describe('CPU per party between two marks', () => {
  it('splits this process by thread id, the backends by application_name, and leaves the rest to the neighbours', () => {
    const apiTid = process.pid + 7;
    const a: CpuMark = {
      at: 0,
      threads: new Map([[process.pid, 100], [apiTid, 50], [process.pid + 1, 10]]),
      backends: new Map([[900, { app: 'riskwire', ticks: 1000 }], [901, { app: 'riskwire-api', ticks: 20 }]]),
      machine: { busy: 0, total: 0 },
    };
    const b: CpuMark = {
      at: 2000, // 2 s
      threads: new Map([[process.pid, 120], [apiTid, 70], [process.pid + 1, 14], [process.pid + 2, 6]]),
      backends: new Map([[900, { app: 'riskwire', ticks: 1040 }], [901, { app: 'riskwire-api', ticks: 30 }], [902, { app: 'riskwire-api', ticks: 10 }]]),
      machine: { busy: 300, total: 400 }, // 75 % of every CPU busy
    };
    const s = cpuShare(a, b, apiTid, 0.5);
    expect(s).toMatchObject({ pipeline_thread: 0.1, api_thread: 0.1, other_threads: 0.05, pg_pipeline: 0.2, pg_api: 0.1, loadgen: 0.25 });
    // a backend born inside the window counts from 0 (902: 10 ticks)
    expect(s.machine).not.toBeNull();
    expect(s.rest).toBeCloseTo(Math.max(0, s.machine! - (0.1 + 0.1 + 0.05 + 0.2 + 0.1 + 0.25)), 2);
  });
});

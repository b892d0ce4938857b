/** The API load A/B of `npm run bench`: both variants, medians with their range, as JSON and as a table. */
import type { Logger } from 'pino';
import { readApiLimits } from '../api/limits.js';
import { table } from '../cli/output.js';
import { ConfigError } from '../core/errors.js';
import type { Storage } from '../db/types.js';
import { apiLoadAB, median, type ApiVariant, type PairResult } from './apiLoad.js';
import type { CpuShare } from './cpuShare.js';

export interface VariantSummary {
  variant: string;
  pairs: number;
  /** Persist latency p95 (ms) without / with the API load: median and [min, max] over the pairs. */
  p95_no_load_ms: { median: number | null; min: number | null; max: number | null };
  p95_api_load_ms: { median: number | null; min: number | null; max: number | null };
  ratio: { median: number | null; min: number | null; max: number | null };
  api_status: Record<string, number>;
  /** 5xx answers summed over the pairs, by route and the start of their message (which limit refused them). */
  api_refusals: Record<string, number>;
  api_request_p95_ms: number | null;
  api_seconds: number | null;
  /** Cores per party, median over the pairs, without / with the load (Linux /proc; src/bench/cpuShare.ts). */
  cpu_cores: { no_load: Record<string, number | null>; api_load: Record<string, number | null> };
  passes: Array<{ p95_no_load_ms: number | null; p95_api_load_ms: number | null; ratio: number | null; cpu: PairResult['cpu'] }>;
}

export interface ApiAB {
  rate_per_s: number;
  requests: number;
  concurrency: number;
  routes: string[];
  bound: string;
  variants: VariantSummary[];
}

const UNPROTECTED: ApiVariant = {
  name: 'no back-pressure (no limit, reads on the writer pool)',
  limits: { maxConcurrent: 1_000_000, requestTimeoutMs: 600_000, statementTimeoutMs: 600_000, queueMax: 0, heavyMaxConcurrent: 1_000_000, timelineCacheMs: 0 },
  readPool: false,
};
const limitsText = () => {
  const l = readApiLimits();
  return `limit ${l.maxConcurrent} + queue ${l.queueMax}/${l.queueWaitMs} ms, heavy ${l.heavyMaxConcurrent}, timeline cache ${l.timelineCacheMs} ms, read pool ${l.readConnections}, CPU budget ${l.cpuBudgetPct} %`;
};
/** serve on PostgreSQL (D73): the API in a worker thread of its own. */
const SERVED = (): ApiVariant => ({ name: `as served: API thread (${limitsText()})`, limits: readApiLimits(), readPool: true, thread: true });
/** API_THREAD=0: the same limits, the API on the pipeline's thread. */
const IN_PROCESS = (): ApiVariant => ({ name: `API_THREAD=0: pipeline's thread (same limits)`, limits: readApiLimits(), readPool: true });

/**
 * One --api-variants item: `default` (as served) or environment overrides `NAME=VALUE,...`
 * (API_* limits; API_THREAD=0 puts that variant's API on the pipeline's thread).
 */
export function variantOf(item: string): ApiVariant {
  const env: NodeJS.ProcessEnv = { ...process.env };
  const text = item.trim();
  if (text !== 'default') {
    for (const kv of text.split(',')) {
      const m = /^(API_[A-Z_]+)=(\d+)$/.exec(kv.trim());
      if (!m) throw new ConfigError(`--api-variants: "${kv}" is not API_NAME=number (items: default, or API_X=n,API_Y=m; separated by ;)`);
      env[m[1]] = m[2];
    }
  }
  const limits = readApiLimits(env);
  return { name: text === 'default' ? 'as served' : text, limits, readPool: true, thread: env.API_THREAD !== '0' };
}

const r1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);
const r2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
const spread = (xs: Array<number | null>, round: (x: number | null) => number | null) => {
  const v = xs.filter((x): x is number => x !== null);
  return { median: round(median(v)), min: round(v.length ? Math.min(...v) : null), max: round(v.length ? Math.max(...v) : null) };
};

function cpuMedians(shares: CpuShare[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const k of Object.keys(shares[0] ?? {}) as Array<keyof CpuShare>) out[k] = r2(median(shares.map((c) => c[k]).filter((x): x is number => x !== null)));
  return out;
}

function summarise(variant: string, pairs: PairResult[]): VariantSummary {
  const status: Record<string, number> = {};
  for (const p of pairs) for (const [k, n] of Object.entries(p.load.status)) status[k] = (status[k] ?? 0) + n;
  const refusals: Record<string, number> = {};
  for (const p of pairs) for (const [k, n] of Object.entries(p.load.refusals ?? {})) refusals[k] = (refusals[k] ?? 0) + n;
  return {
    variant, pairs: pairs.length, api_refusals: refusals,
    p95_no_load_ms: spread(pairs.map((p) => p.baseline.p95), r1),
    p95_api_load_ms: spread(pairs.map((p) => p.loaded.p95), r1),
    ratio: spread(pairs.map((p) => p.ratio), r2),
    api_status: status,
    api_request_p95_ms: r1(median(pairs.map((p) => p.load.p95_ms))),
    api_seconds: r2(median(pairs.map((p) => p.load.seconds))),
    cpu_cores: { no_load: cpuMedians(pairs.map((p) => p.cpu.baseline)), api_load: cpuMedians(pairs.map((p) => p.cpu.loaded)) },
    passes: pairs.map((p) => ({ p95_no_load_ms: r1(p.baseline.p95), p95_api_load_ms: r1(p.loaded.p95), ratio: r2(p.ratio), cpu: p.cpu })),
  };
}

export async function apiAB(
  storage: Storage, url: string, log: Logger, opts: { pairs: number; rate: number; requests: number; concurrency: number; compare: boolean; variants?: string[] }, say: (s: string) => void,
): Promise<ApiAB> {
  const variants: VariantSummary[] = [];
  // --api-compare adds the same limits on the pipeline's thread (as many pairs) and the API
  // without back-pressure (one pair: its loaded window lasts minutes, the writer starving
  // behind the API's queries, which is the point of showing it).
  const runs: Array<[ApiVariant, number]> = [[SERVED(), opts.pairs]];
  if (opts.compare) runs.unshift([UNPROTECTED, 1], [IN_PROCESS(), opts.pairs]);
  if (opts.variants?.length) {
    // --api-variants: every variant on one pipeline, their pairs alternating (ABBA) in one run.
    const vs = opts.variants.map(variantOf);
    say(`API load A/B, ${vs.length} variants alternating: sim at ${opts.rate}/s, ${opts.pairs} pair(s) each of (no load | ${opts.requests} GETs at concurrency ${opts.concurrency})...`);
    const res = await apiLoadAB(storage, url, log, vs, { ...opts, progress: say });
    vs.forEach((v, i) => variants.push(summarise(v.name, res[i])));
  } else {
    for (const [v, pairs] of runs) {
      say(`API load A/B, ${v.name}: sim at ${opts.rate}/s, ${pairs} pair(s) of (no load | ${opts.requests} GETs at concurrency ${opts.concurrency})...`);
      variants.push(summarise(v.name, (await apiLoadAB(storage, url, log, [v], { ...opts, pairs }))[0]));
    }
  }
  return {
    rate_per_s: opts.rate, requests: opts.requests, concurrency: opts.concurrency, routes: ['/v1/streaming/status', '/v1/greeks/snapshots', '/v1/risk/timeline'],
    bound: 'p95 under API load <= 2x p95 without', variants,
  };
}

export function renderApiAB(a: ApiAB): string {
  const range = (s: { median: number | null; min: number | null; max: number | null }, unit = '') =>
    s.median === null ? '-' : `${s.median}${unit} (${s.min}-${s.max})`;
  const rows = a.variants.map((v) => [
    v.variant, range(v.p95_no_load_ms), range(v.p95_api_load_ms), range(v.ratio, 'x'),
    Object.entries(v.api_status).map(([k, n]) => `${k}:${n}`).join(' '), String(v.api_request_p95_ms ?? '-'),
  ]);
  const head = `API load A/B: sim at ${a.rate_per_s} events/s; load = ${a.requests} GETs at concurrency ${a.concurrency} over ${a.routes.join(', ')}; medians (min-max) of the pairs`;
  const parties = ['pipeline_thread', 'api_thread', 'other_threads', 'pg_pipeline', 'pg_api', 'loadgen', 'machine', 'rest'];
  const cpuRows = a.variants.flatMap((v) => [
    [`${v.variant.split(' (')[0]}: no load`, ...parties.map((k) => String(v.cpu_cores.no_load[k] ?? '-'))],
    [`${v.variant.split(' (')[0]}: API load`, ...parties.map((k) => String(v.cpu_cores.api_load[k] ?? '-'))],
  ]);
  return `${head}\n${table(['API', 'persist p95 ms, no load', 'persist p95 ms, API load', 'ratio', 'API answers', 'API p95 ms'], rows)}\nbound: ${a.bound}\n`
    + `CPU in cores per window (medians of the pairs; rest = the machine's other processes):\n${table(['window', ...parties], cpuRows)}`;
}

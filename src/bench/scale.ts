import { writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { BOOK_SECTIONS } from './scaleBooks.js';

/**
 * `npm run bench -- --scale [--json FILE]`: the scale scenarios of issue 15 (items 2-4), run
 * one after another, each into its own scratch database on DATABASE_URL's server (a section
 * creates and drops what it needs). A section owns one dotted key of the JSON document
 * (`history`, `cluster`, `book.tasty`, `book.tws`, ...) and returns the object stored there,
 * plus the lines it prints. A section that throws is reported (`{ error }` under its key,
 * exit 1) and the others still run.
 *
 * Where the sections come from:
 *   - history, cluster: ./scaleHistory.ts, ./scaleCluster.ts (hist15)
 *   - book scenarios:    ./scaleBooks.ts `BOOK_SECTIONS` (books15 fills that list)
 */
export interface ScaleContext {
  /** DATABASE_URL of the server; sections create their own scratch databases there. */
  databaseUrl: string;
  log: Logger;
  /** progress line on stderr */
  say(line: string): void;
  /** --quick: a smaller volume of each section, for a smoke run */
  quick: boolean;
  /** --history-rows=N (default 10,000,000; quick 500,000) */
  historyRows?: number;
}

export interface ScaleSectionResult {
  /** stored under the section's key in the JSON document */
  json: Record<string, unknown>;
  /** printed on stdout, one line each */
  lines: string[];
  /** false: the section missed a hard target (rows lost, double streaming): exit 1 */
  ok: boolean;
}

export interface ScaleSection {
  /** dotted JSON key, e.g. 'history' or 'book.tasty' */
  key: string;
  /** one line for --help and the progress output */
  title: string;
  run(ctx: ScaleContext): Promise<ScaleSectionResult>;
}

/** All sections in the order --scale runs them; --scale-only=key,key picks some. */
export async function scaleSections(): Promise<ScaleSection[]> {
  const { HISTORY_SECTION } = await import('./scaleHistory.js');
  const { CLUSTER_SECTION } = await import('./scaleCluster.js');
  return [HISTORY_SECTION, CLUSTER_SECTION, ...BOOK_SECTIONS];
}

/** Sets obj[a][b]... = value for key 'a.b'. */
export function setDotted(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let at = obj;
  for (const p of parts.slice(0, -1)) {
    if (typeof at[p] !== 'object' || at[p] === null) at[p] = {};
    at = at[p] as Record<string, unknown>;
  }
  at[parts[parts.length - 1]] = value;
}

export interface ScaleOptions {
  quick: boolean;
  jsonFile?: string;
  only?: string[];
  historyRows?: number;
  machine: Record<string, unknown>;
}

/** Runs the scale sections; returns the exit code (0 when every section met its hard targets). */
export async function runScale(databaseUrl: string, log: Logger, opts: ScaleOptions, say: (s: string) => void): Promise<number> {
  const all = await scaleSections();
  const picked = opts.only ? all.filter((s) => opts.only!.some((k) => s.key === k || s.key.startsWith(`${k}.`))) : all;
  const doc: Record<string, unknown> = { machine: { ...opts.machine, scale: true } };
  const out: string[] = [];
  let ok = true;
  for (const section of picked) {
    say(`scale: ${section.key}: ${section.title}...`);
    try {
      const r = await section.run({ databaseUrl, log, say, quick: opts.quick, historyRows: opts.historyRows });
      setDotted(doc, section.key, r.json);
      out.push(...r.lines);
      ok &&= r.ok;
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      setDotted(doc, section.key, { error: why });
      out.push(`${section.key}: failed: ${why}`);
      ok = false;
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (opts.jsonFile) writeFileSync(opts.jsonFile, `${JSON.stringify(doc, null, 2)}\n`);
  return ok ? 0 : 1;
}

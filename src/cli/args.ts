/**
 * Command-line flags on node:util parseArgs. Every command calls
 *   parseArgs(argv, 'timeline', ['help', 'since', 'json', ...])
 * (or with an object { since: 'string', json: 'boolean' } to give the types explicitly) and
 * gets a plain Flags object. Accepted spellings: `--key=value`, `--key value`, `--flag`, and
 * `--no-flag` (→ false) for any known flag. A flag given without a value is `true`, so the
 * command's own check says what value it needs. Anything else (an unknown flag, a positional
 * argument, a short `-x`) is a one-line ConfigError naming it and the command's --help
 * (the CLI turns ConfigError into exit 2).
 */
import { parseArgs as nodeParseArgs } from 'node:util';
import { ConfigError } from '../core/errors.js';

export type Flags = Record<string, string | boolean | undefined>;

export type FlagType = 'string' | 'boolean';
export type FlagSpec = readonly string[] | Readonly<Record<string, FlagType>>;

/**
 * Flags that never take a value when given as a list: `--once next` leaves `next` to be
 * reported as an unexpected argument. Every other listed flag takes a value (`--since 1h`).
 */
export const BOOLEAN_FLAGS: ReadonlySet<string> = new Set(['help', 'once', 'csv', 'sandbox', 'quick', 'all-accounts', 'db', 'h', 'yes', 'demo', 'api-only', 'api-compare', 'scenarios', 'open', 'evaluate', 'attribution', 'scale', 'cluster']);

function typesOf(spec: FlagSpec): Record<string, FlagType> {
  if (!Array.isArray(spec)) return { ...(spec as Record<string, FlagType>) };
  return Object.fromEntries((spec as readonly string[]).map((k) => [k, BOOLEAN_FLAGS.has(k) ? 'boolean' : 'string']));
}

export function parseArgs(argv: readonly string[], command: string, spec: FlagSpec): Flags {
  const types = typesOf(spec);
  const help = `see npm run ${command} -- --help`;
  const flags: Flags = {};
  let rest = [...argv];
  while (rest.length > 0) {
    const { tokens } = nodeParseArgs({
      args: rest,
      options: Object.fromEntries(Object.entries(types).map(([k, type]) => [k, { type }])),
      strict: false,
      allowPositionals: true,
      tokens: true,
    });
    let resumeAt = -1;
    for (const t of tokens) {
      if (t.kind === 'positional') throw new ConfigError(`unexpected argument "${t.value}": ${help}`);
      if (t.kind === 'option-terminator') throw new ConfigError(`unknown flag --: ${help}`);
      if (!t.rawName.startsWith('--')) throw new ConfigError(`unexpected argument "${rest[t.index]}": ${help}`);
      let name = t.name;
      let value: string | boolean = t.value ?? true;
      if (!(name in types) && name.startsWith('no-') && name.slice(3) in types && t.value === undefined) {
        name = name.slice(3);
        value = false;
      }
      if (!(name in types)) throw new ConfigError(`unknown flag --${name}: ${help}`);
      if (types[name] === 'boolean' && t.inlineValue) value = t.value!; // --once=false is passed on as written
      // `--broker --once`: parseArgs hands "--once" to --broker as its value; it is the next flag.
      if (typeof value === 'string' && !t.inlineValue && value.startsWith('--')) {
        flags[name] = true;
        resumeAt = t.index + 1;
        break;
      }
      flags[name] = value;
    }
    rest = resumeAt >= 0 ? rest.slice(resumeAt) : [];
  }
  return flags;
}

/** A duration flag in seconds (also accepts 500ms, 30s, 5m, 2h). */
export function durationMs(flags: Flags, name: string, dfltMs: number | undefined): number | undefined {
  const raw = flags[name];
  if (raw === undefined) return dfltMs;
  const m = String(raw).trim().match(/^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/);
  if (!m) throw new ConfigError(`--${name}=${String(raw)} is not a duration: use seconds (30) or 500ms, 30s, 5m, 2h, 1d`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(m[2] ?? 's') as 'ms'];
  return Number(m[1]) * unit;
}

export function intFlag(flags: Flags, name: string, dflt: number, min: number, max: number): number {
  const raw = flags[name];
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`--${name}=${String(raw)} is not valid: use a whole number from ${min} to ${max}`);
  return n;
}

export { envInt } from '../core/env.js';

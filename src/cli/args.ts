import { ConfigError } from '../core/errors.js';

export type Flags = Record<string, string | boolean | undefined>;

/**
 * Parses `--key=value`, `--key value` and `--flag` (and `--no-flag` → false). Anything not in
 * `known` is a ConfigError naming the flag and the command's --help.
 */
export function parseArgs(argv: string[], command: string, known: string[]): Flags {
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}": see npm run ${command} -- --help`);
    let key = arg.slice(2);
    let value: string | boolean = true;
    const eq = key.indexOf('=');
    if (eq >= 0) {
      value = key.slice(eq + 1);
      key = key.slice(0, eq);
    } else if (key.startsWith('no-') && known.includes(key.slice(3))) {
      key = key.slice(3);
      value = false;
    } else if (i + 1 < argv.length && !argv[i + 1].startsWith('--') && !BOOLEAN.has(key)) {
      value = argv[++i];
    }
    if (!known.includes(key)) throw new ConfigError(`unknown flag --${key}: see npm run ${command} -- --help`);
    flags[key] = value;
  }
  return flags;
}

const BOOLEAN = new Set(['help', 'once', 'csv', 'sandbox', 'quick', 'all-accounts', 'db', 'h', 'scenarios', 'open', 'evaluate']);

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

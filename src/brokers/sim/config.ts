import { ConfigError } from '../../core/errors.js';
import type { PluginFlags } from '../types.js';

/** Knobs of the synthetic market. All come from CLI flags (--rate=200 --dup=0.05 ...). */
export interface SimConfig {
  /** Greeks updates per second across the book. */
  rate: number;
  accounts: number;
  seed: number;
  /** Probability that an update is sent twice (the copy must be dropped). */
  dup: number;
  /** Probability that an update is stamped up to 5 s in the past (stored, never "latest"). */
  ooo: number;
  /** Probability that a frame is garbage (counted and skipped). */
  malformed: number;
  /** Stop producing after this many unique greeks updates (0 = unlimited). */
  count: number;
  /** Crash the actor (uncaught throw) this many seconds after start (0 = never). */
  crashAfter: number;
  /** Tick period in ms: updates go out in bursts of rate·tick/1000. */
  tickMs: number;
  /** Stream only this account (SIM-n): set by ingest --cluster per leased unit, not a CLI flag. */
  onlyAccount?: string;
}

function num(flags: PluginFlags, name: string, dflt: number, min: number, max: number): number {
  const raw = flags[name];
  if (raw === undefined || raw === true || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) throw new ConfigError(`--${name}=${String(raw)} is not valid: use a number from ${min} to ${max}`);
  return n;
}

export function parseSimConfig(_env: Record<string, string | undefined>, flags: PluginFlags): SimConfig {
  const rate = num(flags, 'rate', 20, 0.1, 1_000_000);
  return {
    rate,
    accounts: Math.floor(num(flags, 'accounts', 2, 1, 50)),
    seed: Math.floor(num(flags, 'seed', 1, 0, 2 ** 31)),
    dup: num(flags, 'dup', 0, 0, 1),
    ooo: num(flags, 'ooo', 0, 0, 1),
    malformed: num(flags, 'malformed', 0, 0, 1),
    count: Math.floor(num(flags, 'count', 0, 0, 1e12)),
    crashAfter: num(flags, 'crash-after', 0, 0, 1e9),
    ...(typeof flags['only-account'] === 'string' ? { onlyAccount: flags['only-account'] } : {}),
    tickMs: Math.max(5, Math.min(1000, Math.round(num(flags, 'tick-ms', rate >= 100 ? 10 : 1000 / rate, 1, 60_000)))),
  };
}

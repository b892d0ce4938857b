import { ConfigError } from './errors.js';

export type Env = Record<string, string | undefined>;

/** A whole-number setting from the environment; a bad value is a one-line ConfigError naming it. */
export function envInt(env: Env, name: string, dflt: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new ConfigError(`${name}="${raw}" is not valid: use a whole number from ${min} to ${max}`);
  }
  return n;
}

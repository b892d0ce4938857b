/**
 * The one retry delay of Riskwire: exponential from `baseMs`, capped at `maxMs`, then jittered so
 * that many clients cut off by the same outage do not come back in lockstep. Pure: randomness
 * is injected. Used by every broker connection, the REST retries and the actor supervisor.
 */
import { systemRandom } from './clock.js';

/** The delay is `nominal · (min + random() · (max − min))`, random() in [0, 1). */
export interface Jitter {
  min: number;
  max: number;
}

/** Full jitter: anywhere in [0, nominal]. Spreads retries the most; the default. */
export const FULL_JITTER: Jitter = { min: 0, max: 1 };
/** Equal jitter: [nominal/2, nominal]: spread, yet never sooner than half the nominal delay. */
export const EQUAL_JITTER: Jitter = { min: 0.5, max: 1 };

export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
  /** Default FULL_JITTER. */
  jitter?: Jitter;
}

/** Tastytrade's retries: ±20 % around the nominal delay (REST up to 60 s, feeds up to 30 s). */
export const TASTY_JITTER: Jitter = { min: 0.8, max: 1.2 };
export const REST_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 60_000, jitter: TASTY_JITTER };
export const FEED_BACKOFF: BackoffPolicy = { baseMs: 1_000, maxMs: 30_000, jitter: TASTY_JITTER };

/** Delay before retry number `attempt` (0 = first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = systemRandom): number {
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(Math.max(attempt, 0), 30));
  const { min, max } = policy.jitter ?? FULL_JITTER;
  return Math.max(0, Math.round(nominal * (min + random() * (max - min))));
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date. null when absent or unusable. */
export function parseRetryAfter(value: unknown, now: number): number | null {
  if (typeof value !== 'string' && typeof value !== 'number') return null;
  const s = String(value).trim();
  if (s === '') return null;
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const at = Date.parse(s);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

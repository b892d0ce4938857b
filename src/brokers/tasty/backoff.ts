/** Retry delays: exponential with jitter, capped; a server's Retry-After wins when it asks for longer. Pure. */

export interface BackoffPolicy {
  baseMs: number;
  capMs: number;
  /** 0..1: fraction of the delay randomised, so that many clients do not retry in lockstep. */
  jitter: number;
}

export const REST_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 60_000, jitter: 0.2 };
export const FEED_BACKOFF: BackoffPolicy = { baseMs: 1_000, capMs: 30_000, jitter: 0.2 };

/** Delay before retry number `attempt` (0 = first retry). */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const raw = Math.min(policy.capMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  const spread = raw * policy.jitter;
  return Math.max(0, Math.round(raw - spread + random() * 2 * spread));
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

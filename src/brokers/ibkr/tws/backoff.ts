/**
 * Reconnect delays: exponential with "equal jitter" (half fixed, half random), so that many
 * clients cut off by the same TWS restart do not come back in lockstep, yet none retries
 * sooner than half the nominal delay.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 30_000 };

/** Delay before reconnect attempt `attempt` (0 = first retry). `random` returns [0, 1). */
export function backoffDelay(attempt: number, policy: BackoffPolicy = DEFAULT_BACKOFF, random: () => number = Math.random): number {
  const nominal = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.round(nominal / 2 + random() * (nominal / 2));
}

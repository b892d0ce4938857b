/** Exponential backoff with full jitter: delay in [base·2^n / 2, base·2^n], capped at max. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

export function backoffDelay(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(Math.max(attempt, 0), 20));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

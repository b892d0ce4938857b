/** Reconnect delay: exponential from `baseMs`, capped at `maxMs`, with jitter in [50 %, 100 %]. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const raw = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(raw * (0.5 + random() * 0.5));
}

import type { Clock } from './clock.js';

/**
 * Settles like `work`, or rejects with `timeoutError()` when `work` has not settled after `ms`
 * on the Clock (`ms` ≤ 0: no deadline). `work` itself is not cancelled: `onTimeout` may try.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, clock: Clock, timeoutError: () => unknown, onTimeout?: () => void): Promise<T> {
  if (!(ms > 0)) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      onTimeout?.();
      reject(timeoutError());
    }, ms);
    work.then(
      (v) => {
        clock.clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clock.clearTimeout(timer);
        reject(e);
      },
    );
  });
}

/**
 * ALERT_WEBHOOK_URL delivery: each alert open/close is POSTed as JSON, in order, retried with
 * exponential backoff (the shared backoffDelay) on a network error or a non-2xx answer, on the
 * Clock. send() only queues: the pipeline never waits for the webhook. The queue is bounded;
 * past it the oldest undelivered alert is dropped and counted (the alerts table keeps them all).
 */
import type { Logger } from 'pino';
import { backoffDelay, EQUAL_JITTER } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import { redactText } from '../core/logger.js';
import { errorText } from '../core/errors.js';

export interface WebhookOptions {
  url: string;
  clock: Clock;
  log: Logger;
  maxAttempts?: number;
  baseMs?: number;
  maxMs?: number;
  maxQueue?: number;
  timeoutMs?: number;
  random?: () => number;
}

export interface WebhookStats {
  delivered: number;
  failedAttempts: number;
  dropped: number;
  queued: number;
}

export class WebhookSender {
  private queue: unknown[] = [];
  private busy = false;
  private closed = false;
  private attempt = 0;
  private timer: ReturnType<Clock['setTimeout']> | undefined;
  readonly stats: WebhookStats = { delivered: 0, failedAttempts: 0, dropped: 0, queued: 0 };

  constructor(private readonly o: WebhookOptions) {}

  send(payload: unknown): void {
    if (this.closed) return;
    if (this.queue.length >= (this.o.maxQueue ?? 1000)) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.queue.push(payload);
    this.stats.queued = this.queue.length;
    if (!this.busy && !this.timer) void this.pump();
  }

  close(): void {
    this.closed = true;
    this.o.clock.clearTimeout(this.timer);
  }

  private async pump(): Promise<void> {
    this.timer = undefined;
    if (this.busy || this.closed) return;
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const ok = await this.post(this.queue[0]);
        if (ok) {
          this.queue.shift();
          this.stats.delivered++;
          this.attempt = 0;
          continue;
        }
        this.stats.failedAttempts++;
        this.attempt++;
        if (this.attempt >= (this.o.maxAttempts ?? 8)) {
          this.o.log.warn({ attempts: this.attempt }, 'alert webhook: giving up on one alert (it stays in the alerts table)');
          this.queue.shift();
          this.stats.dropped++;
          this.attempt = 0;
          continue;
        }
        const delay = backoffDelay(this.attempt - 1, { baseMs: this.o.baseMs ?? 500, maxMs: this.o.maxMs ?? 30_000, jitter: EQUAL_JITTER }, this.o.random);
        this.timer = this.o.clock.setTimeout(() => void this.pump(), delay);
        return;
      }
    } finally {
      this.busy = false;
      this.stats.queued = this.queue.length;
    }
  }

  private async post(payload: unknown): Promise<boolean> {
    try {
      const res = await fetch(this.o.url, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(payload),
        signal: AbortSignal.timeout(this.o.timeoutMs ?? 5000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (res.ok) return true;
      if (this.attempt === 0) this.o.log.warn({ status: res.status }, 'alert webhook answered with an error; retrying');
      return false;
    } catch (err) {
      if (this.attempt === 0) this.o.log.warn({ err: redactText(errorText(err)) }, 'alert webhook unreachable; retrying');
      return false;
    }
  }
}

/**
 * received_at → persisted_at latency. Quantiles come from a ring of the most recent samples
 * (exact over that window); Prometheus buckets are cumulative over the whole run.
 */
export const LATENCY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000];

export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export class LatencyRecorder {
  private ring: Float64Array;
  private next = 0;
  private filled = 0;
  private total = 0;
  private sum = 0;
  readonly buckets = new Array<number>(LATENCY_BUCKETS_MS.length + 1).fill(0);

  constructor(capacity = 100_000) {
    this.ring = new Float64Array(capacity);
  }

  record(ms: number): void {
    const v = ms < 0 ? 0 : ms;
    this.ring[this.next] = v;
    this.next = (this.next + 1) % this.ring.length;
    if (this.filled < this.ring.length) this.filled++;
    this.total++;
    this.sum += v;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && v > LATENCY_BUCKETS_MS[i]) i++;
    this.buckets[i]++;
  }

  get count(): number {
    return this.total;
  }

  get sumMs(): number {
    return this.sum;
  }

  reset(): void {
    this.next = 0;
    this.filled = 0;
    this.total = 0;
    this.sum = 0;
    this.buckets.fill(0);
  }

  summary(): LatencySummary {
    if (this.filled === 0) return { count: 0, p50: null, p95: null, p99: null, max: null };
    const sorted = Float64Array.from(this.ring.subarray(0, this.filled)).sort();
    const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)];
    return { count: this.total, p50: q(0.5), p95: q(0.95), p99: q(0.99), max: sorted[sorted.length - 1] };
  }
}

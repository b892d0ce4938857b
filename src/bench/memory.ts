/** Samples the process RSS (and, through a callback, each worker's heap) to report peaks. */
export class PeakMemory {
  peakRssMb = 0;
  peakWorkerHeapMb: Record<string, number> = {};
  private timer: NodeJS.Timeout;

  constructor(private readonly workers: () => Array<{ id: string; heapMb: number | null }> = () => [], everyMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): void {
    this.peakRssMb = Math.max(this.peakRssMb, process.memoryUsage().rss / 1048576);
    for (const w of this.workers()) {
      if (w.heapMb !== null) this.peakWorkerHeapMb[w.id] = Math.max(this.peakWorkerHeapMb[w.id] ?? 0, w.heapMb);
    }
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

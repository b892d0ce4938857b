/**
 * Samples the process RSS (all threads: main, actor workers, writer worker) and, through a
 * callback, each worker's heap, to report peaks: over the whole run and per scenario
 * (`scenario(name)` starts attributing samples to `name`).
 */
export class PeakMemory {
  peakRssMb = 0;
  peakWorkerHeapMb: Record<string, number> = {};
  /** Peak RSS while each named scenario ran. RSS is not returned to the OS at once, so a scenario can inherit some of the one before. */
  peakRssByScenarioMb: Record<string, number> = {};
  private current: string | undefined;
  private timer: NodeJS.Timeout;

  constructor(private readonly workers: () => Array<{ id: string; heapMb: number | null }> = () => [], everyMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  scenario(name: string | undefined): void {
    this.sample();
    this.current = name;
    if (name !== undefined) this.sample();
  }

  sample(): void {
    const rss = process.memoryUsage().rss / 1048576;
    this.peakRssMb = Math.max(this.peakRssMb, rss);
    if (this.current !== undefined) this.peakRssByScenarioMb[this.current] = Math.max(this.peakRssByScenarioMb[this.current] ?? 0, rss);
    for (const w of this.workers()) {
      if (w.heapMb !== null) this.peakWorkerHeapMb[w.id] = Math.max(this.peakWorkerHeapMb[w.id] ?? 0, w.heapMb);
    }
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}

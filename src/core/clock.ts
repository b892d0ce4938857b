/**
 * Every timer in Riskwire (flush, heartbeat, backoff, staleness) goes through a Clock so that
 * the logic is tested with fake time instead of sleeps.
 */
export type TimerHandle = { readonly id: number };

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
  setInterval(fn: () => void, ms: number): TimerHandle;
  clearInterval(handle: TimerHandle | undefined): void;
}

/** The default randomness (backoff jitter): injectable wherever it is used, so tests pin it. */
export const systemRandom: () => number = Math.random;

/** Resolves after `ms` on `clock` (fake time in tests). */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => void clock.setTimeout(resolve, ms));
}

export const systemClock: Clock = (() => {
  const handles = new Map<number, NodeJS.Timeout>();
  let next = 1;
  const track = (t: NodeJS.Timeout): TimerHandle => {
    const id = next++;
    handles.set(id, t);
    return { id };
  };
  const clear = (h: TimerHandle | undefined) => {
    if (!h) return;
    const t = handles.get(h.id);
    if (t) clearTimeout(t);
    handles.delete(h.id);
  };
  return {
    now: () => Date.now(),
    setTimeout(fn, ms) {
      let handle: TimerHandle;
      const t = setTimeout(() => {
        handles.delete(handle.id);
        fn();
      }, ms);
      handle = track(t);
      return handle;
    },
    clearTimeout: clear,
    setInterval: (fn, ms) => track(setInterval(fn, ms)),
    clearInterval: clear,
  };
})();

interface FakeTimer { id: number; at: number; fn: () => void; every?: number }

/**
 * A manually advanced clock: timers fire in time order during advance(). `npm run replay` runs
 * a recorded session on it (time is the recording's); tests use FakeClock (tests/helpers), which
 * adds advanceAsync().
 */
export class ManualClock implements Clock {
  private t: number;
  private timers = new Map<number, FakeTimer>();
  private nextId = 1;

  constructor(start = Date.UTC(2025, 0, 2, 15, 0, 0)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    this.timers.set(id, { id, at: this.t + Math.max(0, ms), fn });
    return { id };
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    const id = this.nextId++;
    const every = Math.max(1, ms);
    this.timers.set(id, { id, at: this.t + every, fn, every });
    return { id };
  }
  clearTimeout(h: TimerHandle | undefined): void {
    if (h) this.timers.delete(h.id);
  }
  clearInterval(h: TimerHandle | undefined): void {
    if (h) this.timers.delete(h.id);
  }
  pending(): number {
    return this.timers.size;
  }
  /** When the earliest timer is due, or null when none is set. */
  nextDue(): number | null {
    let at: number | null = null;
    for (const timer of this.timers.values()) if (at === null || timer.at < at) at = timer.at;
    return at;
  }
  /** Moves time forward by ms, firing due timers in order (timers scheduled meanwhile included). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let due: FakeTimer | undefined;
      for (const timer of this.timers.values()) {
        if (timer.at <= end && (!due || timer.at < due.at || (timer.at === due.at && timer.id < due.id))) due = timer;
      }
      if (!due) break;
      this.t = Math.max(this.t, due.at);
      if (due.every) due.at += due.every;
      else this.timers.delete(due.id);
      due.fn();
    }
    this.t = end;
  }
}

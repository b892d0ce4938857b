/**
 * The tick loop of the simulator kit, on an injectable Clock (real time by default, a fake
 * clock in unit tests). The period is read before every tick, so a knob can change it while
 * running.
 */
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';

export interface TickerOptions {
  clock?: Clock;
  /** Milliseconds between ticks; a function is read again before every tick. */
  periodMs: number | (() => number);
  /** Called every tick with the clock's time and the milliseconds since the previous tick (or start). */
  onTick: (now: number, sinceLastMs: number) => void;
  /**
   * 'interval' (default): one clock interval (the period is read once, at start).
   * 'fixed-rate': the next tick is due one period after the previous one was due, not after it
   * finished, so the offered rate holds when a tick takes some work; at most 10 periods of
   * backlog are caught up.
   */
  mode?: 'interval' | 'fixed-rate';
}

export interface Ticker {
  /** Runs one tick now (outside the schedule). */
  tickNow(): void;
  stop(): void;
}

export function startTicker(options: TickerOptions): Ticker {
  const clock = options.clock ?? systemClock;
  const period = typeof options.periodMs === 'function' ? options.periodMs : () => options.periodMs as number;
  let last = clock.now();
  let stopped = false;
  const tick = () => {
    const now = clock.now();
    const since = now - last;
    last = now;
    options.onTick(now, since);
  };
  let handle: TimerHandle | undefined;
  if ((options.mode ?? 'interval') === 'interval') {
    handle = clock.setInterval(tick, period());
    return {
      tickNow: tick,
      stop() {
        stopped = true;
        clock.clearInterval(handle);
      },
    };
  }
  let dueAt = clock.now() + period();
  const loop = () => {
    tick();
    if (stopped) return;
    const p = period();
    dueAt = Math.max(dueAt + p, clock.now() - 10 * p);
    handle = clock.setTimeout(loop, Math.max(0, dueAt - clock.now()));
  };
  handle = clock.setTimeout(loop, period());
  return {
    tickNow: tick,
    stop() {
      stopped = true;
      clock.clearTimeout(handle);
    },
  };
}

/**
 * Fault knobs of the simulator kit: the ways a real feed misbehaves, applied to a simulator's
 * outgoing updates. `FaultLine` applies drop, hold-back-to-reorder, duplicate and delay per
 * update; `HoldBack` and `chance` are its parts for a simulator whose hold-back decision shapes
 * the frame it builds (IBKR cpapi); `Connections` carries disconnect and silence.
 * Randomness is the simulator's seeded generator, so a seed reproduces the faults.
 */
import { systemClock, type Clock, type TimerHandle } from '../../core/clock.js';

export interface FaultKnobs {
  /** Probability (0..1) that an update is never sent (and so not in the ledger). */
  drop: number;
  /** Probability (0..1) that an update is sent twice in a row. */
  duplicate: number;
  /** Probability (0..1) that an update is held back and sent after the next update of its key. */
  reorder: number;
  /** Every update waits this long before it goes out (0 = at once). */
  delayMs: number;
  /** Nothing goes out (held updates stay held). */
  silent: boolean;
}

export const defaultFaultKnobs = (): FaultKnobs => ({ drop: 0, duplicate: 0, reorder: 0, delayMs: 0, silent: false });

/** One draw: true with probability p. Always consumes one random number (a seed replays exactly). */
export const chance = (rand: () => number, p: number): boolean => rand() < p;

/** Like chance(), but draws nothing when p is 0 (knobs that are usually off). */
export const maybe = (rand: () => number, p: number): boolean => p > 0 && rand() < p;

/** At most one update held back per key, to be sent after the key's next update. */
export class HoldBack<K, V> {
  private readonly held = new Map<K, V>();

  has(key: K): boolean {
    return this.held.has(key);
  }
  /** The held update of a key, left in place (undefined when none). */
  peek(key: K): V | undefined {
    return this.held.get(key);
  }
  hold(key: K, value: V): void {
    this.held.set(key, value);
  }
  /** The held update of a key, removed (undefined when none). */
  take(key: K): V | undefined {
    const v = this.held.get(key);
    this.held.delete(key);
    return v;
  }
  /** Every held update with its key, removed, in the order they were held. */
  drain(): [K, V][] {
    const all = [...this.held.entries()];
    this.held.clear();
    return all;
  }
  get size(): number {
    return this.held.size;
  }
}

export interface FaultLineOptions<K, M> {
  /** Live knobs: a test changes them while the simulator runs. */
  knobs: FaultKnobs;
  rand: () => number;
  clock?: Clock;
  /** Puts one update on the wire; `copy` is true for the second send of a duplicate. */
  deliver: (message: M, key: K, copy: boolean) => void;
}

/**
 * Per-update faults, in this order: drop (drawn only when drop > 0); a held update of the key
 * goes out right after this one (no duplicate draw); else reorder (one draw) holds this one
 * back; else it goes out, and duplicate (one draw) sends it again. With delayMs > 0 each send
 * waits on the clock.
 */
export class FaultLine<K, M> {
  private readonly holdBack = new HoldBack<K, M>();
  private readonly clock: Clock;
  private readonly timers = new Set<TimerHandle>();

  constructor(private readonly o: FaultLineOptions<K, M>) {
    this.clock = o.clock ?? systemClock;
  }

  offer(key: K, message: M): void {
    const { knobs, rand } = this.o;
    if (knobs.silent) return;
    if (maybe(rand, knobs.drop)) return;
    const before = this.holdBack.take(key);
    if (before !== undefined) {
      this.out(message, key, false);
      this.out(before, key, false);
      return;
    }
    if (chance(rand, knobs.reorder)) {
      this.holdBack.hold(key, message);
      return;
    }
    this.out(message, key, false);
    if (chance(rand, knobs.duplicate)) this.out(message, key, true);
  }

  /** Sends every held update now (falling silent or stopping never swallows one). */
  flush(): void {
    for (const [key, m] of this.holdBack.drain()) this.out(m, key, false);
  }

  /** Updates held back right now. */
  held(): number {
    return this.holdBack.size;
  }

  /** Cancels delayed sends not yet out. */
  close(): void {
    for (const t of this.timers) this.clock.clearTimeout(t);
    this.timers.clear();
  }

  private out(message: M, key: K, copy: boolean): void {
    const delay = this.o.knobs.delayMs;
    if (delay <= 0) return this.o.deliver(message, key, copy);
    const t = this.clock.setTimeout(() => {
      this.timers.delete(t);
      this.o.deliver(message, key, copy);
    }, delay);
    this.timers.add(t);
  }
}

/**
 * The open connections of a simulator, with the disconnect and silence faults: dropAll() cuts
 * every connection abruptly, closeAll() closes them politely, silenceAll() mutes the current
 * ones (new ones are served normally).
 */
export class Connections<C> {
  private readonly open = new Set<C>();
  private readonly muted = new WeakSet<object>();

  constructor(private readonly io: { drop(c: C): void; close?(c: C, code?: number, reason?: string): void }) {}

  add(c: C): void {
    this.open.add(c);
  }
  delete(c: C): void {
    this.open.delete(c);
  }
  get size(): number {
    return this.open.size;
  }
  [Symbol.iterator](): Iterator<C> {
    return this.open.values();
  }
  /** Abrupt close of every connection (TCP reset, no close frame); they leave the set. */
  dropAll(): void {
    for (const c of this.open) this.io.drop(c);
    this.open.clear();
  }
  /** Polite close of every connection (they leave the set when their close event fires). */
  closeAll(code?: number, reason?: string): void {
    for (const c of this.open) (this.io.close ?? this.io.drop)(c, code, reason);
  }
  silenceAll(): void {
    for (const c of this.open) this.muted.add(c as object);
  }
  isSilenced(c: C): boolean {
    return this.muted.has(c as object);
  }
}

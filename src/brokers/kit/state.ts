/**
 * An explicit connection state with (state, prev, reason) listeners, after @dxfeed/dxlink-api's
 * state listeners. A change to the same state is no change: listeners hear only real transitions.
 */
export type StateListener<S extends string> = (state: S, prev: S, reason: string | undefined) => void;

export class StateMachine<S extends string> {
  private s: S;
  private readonly listeners = new Set<StateListener<S>>();

  constructor(initial: S) {
    this.s = initial;
  }

  get state(): S {
    return this.s;
  }

  /** Moves to `state`; returns false (and tells no one) when already there. */
  set(state: S, reason?: string): boolean {
    if (state === this.s) return false;
    const prev = this.s;
    this.s = state;
    for (const l of this.listeners) l(state, prev, reason);
    return true;
  }

  /** Returns the unsubscribe function. */
  onChange(listener: StateListener<S>): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }
}

/**
 * What every stream reports: its state (an explicit StateMachine whose changes become `state`
 * events), malformed wire messages (counted, then a `malformed` event), inbound/data times,
 * reconnects and the last error: together the StreamHealth the supervisor polls.
 */
import type { Clock } from '../../core/clock.js';
import type { BrokerEvent, BrokerId, StreamState } from '../../core/types.js';
import type { StreamHealth } from '../types.js';
import { StateMachine, type StateListener } from './state.js';

export interface ReporterOptions {
  broker: BrokerId;
  clock: Clock;
  emit(event: BrokerEvent): void;
  initial?: StreamState;
}

export class StreamReporter {
  readonly state: StateMachine<StreamState>;
  lastMessageAt: number | null = null;
  lastEventAt: number | null = null;
  reconnects = 0;
  malformedCount = 0;
  lastError: string | null = null;

  constructor(private readonly o: ReporterOptions) {
    this.state = new StateMachine<StreamState>(o.initial ?? 'starting');
    this.state.onChange((state, _prev, reason) =>
      o.emit({ kind: 'state', broker: o.broker, at: o.clock.now(), state, ...(reason ? { reason } : {}) }),
    );
  }

  get current(): StreamState {
    return this.state.state;
  }

  /** Moves the state; a `state` event (and whatever the listeners do) only on a real change. */
  setState(state: StreamState, reason?: string): boolean {
    return this.state.set(state, reason);
  }

  /** Adds a (state, prev, reason) listener, e.g. the stream's own log line. */
  onState(listener: StateListener<StreamState>): () => void {
    return this.state.onChange(listener);
  }

  malformed(reason: string): void {
    this.malformedCount++;
    this.o.emit({ kind: 'malformed', broker: this.o.broker, at: this.o.clock.now(), reason });
  }

  /** An inbound wire message (any kind) at `at`. */
  inbound(at = this.o.clock.now()): void {
    this.lastMessageAt = at;
  }

  /** A data event (greeks/quote) at `at`. */
  data(at = this.o.clock.now()): void {
    this.lastEventAt = at;
  }

  health(subscriptions: number, details?: Record<string, unknown>): StreamHealth {
    return {
      state: this.current,
      lastMessageAt: this.lastMessageAt,
      lastEventAt: this.lastEventAt,
      reconnects: this.reconnects,
      subscriptions,
      malformed: this.malformedCount,
      lastError: this.lastError,
      ...(details ? { details } : {}),
    };
  }
}

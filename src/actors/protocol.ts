import type { MessagePort } from 'node:worker_threads';
import type { StreamHealth } from '../brokers/types.js';
import type { BrokerEvent } from '../core/types.js';
import type { PackedEvents } from './eventPack.js';
import type { WatchSymbol } from '../quotes/symbols.js';

/** What the supervisor hands an actor's worker (structured-cloned; ports transferred). */
export interface ActorTask {
  actorId: string;
  brokerId: string;
  flags: Record<string, string | boolean | undefined>;
  controlPort: MessagePort;
  dataPort: MessagePort;
  logLevel: string;
  /** Max events per data-plane message. */
  batchMax: number;
  /**
   * Flow control: at most this many events posted and not yet acknowledged (CreditMessage) by
   * the supervisor. Past it the worker holds its outbox and tells the stream (ctx.paused()), so
   * a burst waits at its source instead of piling up in the main thread. 0 = no limit.
   */
  creditEvents: number;
  /** Allow fault injection over the control plane (tests, fault suite). */
  allowFaults: boolean;
  /** Record every inbound wire message of this actor into this folder (--record). */
  recordDir?: string;
  /** The watchlist at launch (a restarted actor gets the current one). */
  watchlist?: WatchSymbol[];
}

/** Data plane: a batch of events (packed: eventPack.ts), or the end marker posted after a clean stop. */
export type DataMessage = { events: BrokerEvent[] } | { packed: PackedEvents } | { end: true };

/** Data plane, supervisor → worker: `ack` more events were taken in by the processor. */
export interface CreditMessage {
  ack: number;
}

export type Fault = 'throw' | 'hang' | 'oom' | 'exit';

/** Control plane (comlink). Every call is given a timeout by the supervisor. */
export interface ActorControl {
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): Promise<StreamHealth>;
  resubscribe(): Promise<void>;
  inject(fault: Fault): Promise<void>;
  /** Replaces the watchlist of the running stream (no-op for streams without watchlists). */
  setWatchlist(symbols: WatchSymbol[]): Promise<void>;
}

import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import type { BrokerEvent, StreamState } from '../core/types.js';

/**
 * A broker plugin: everything Riskwire knows about one broker, and nothing about workers or
 * the database. It runs inside an actor's worker thread; the actor runtime gives it a
 * StreamContext and forwards what it emits to the core processor.
 *
 * Adding a broker = one folder src/brokers/<id>/ exporting a BrokerPlugin, plus one line in
 * src/brokers/registry.ts.
 */
export interface BrokerPlugin<Config = unknown> {
  id: string;
  /** One line for --help. */
  description: string;
  /**
   * Reads and validates configuration from env and CLI flags. Throws ConfigError (one line
   * naming the variable and the fix) on bad or missing config. Called in the main thread
   * before any worker starts (fail fast) and again inside the worker. Must be pure.
   * The result must be structured-cloneable.
   */
  parseConfig(env: Record<string, string | undefined>, flags: PluginFlags): Config;
  /** Creates the stream. Nothing connects until start(). */
  createStream(config: Config, ctx: StreamContext): BrokerStream;
}

export type PluginFlags = Record<string, string | boolean | undefined>;

export interface StreamContext {
  /** Posts an event to the core processor. Cheap: the runtime batches these. */
  emit(event: BrokerEvent): void;
  log: Logger;
  clock: Clock;
}

export interface BrokerStream {
  /** Discovers positions, connects and subscribes. Resolves once streaming (or throws a startup error). */
  start(): Promise<void>;
  /** Closes sockets and timers. Must be idempotent and must not throw. */
  stop(): Promise<void>;
  /** Re-reads positions and re-sends every subscription. */
  resubscribe(): Promise<void>;
  health(): StreamHealth;
}

export interface StreamHealth {
  state: StreamState;
  /** Epoch ms of the last inbound wire message (any kind), or null. */
  lastMessageAt: number | null;
  /** Epoch ms of the last data event (greeks/quote), or null. */
  lastEventAt: number | null;
  reconnects: number;
  subscriptions: number;
  malformed: number;
  lastError: string | null;
  /** Plugin-specific details (transport, token expiry, ...). Must be structured-cloneable. */
  details?: Record<string, unknown>;
}

export function emptyHealth(): StreamHealth {
  return { state: 'starting', lastMessageAt: null, lastEventAt: null, reconnects: 0, subscriptions: 0, malformed: 0, lastError: null };
}

import type { Logger } from 'pino';
import type { Clock, FakeClock } from '../core/clock.js';
import type { ReplayFeed } from './kit/replay.js';
import type { WireRecording } from './kit/wire.js';
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
  /**
   * The same stream over replay transports (npm run replay): its sockets and REST calls are fed
   * from `feed`, its clock is the replay's manual clock. Absent: the broker cannot be replayed.
   */
  replay?(config: Config, ctx: StreamContext & { clock: FakeClock }, feed: ReplayFeed): BrokerStream;
}

export type PluginFlags = Record<string, string | boolean | undefined>;

/** A command-line flag the plugin reads in parseConfig (`--name=VALUE`, or `--name` when boolean). */
export interface PluginFlag {
  name: string;
  /** Placeholder for the value in --help (`N`, `URL`); absent = a boolean switch. */
  value?: string;
  help: string;
}

/** An environment variable the plugin reads in parseConfig. */
export interface PluginEnvVar {
  name: string;
  help: string;
  /** A credential: never printed or logged. */
  secret?: boolean;
}

/**
 * What a plugin says about itself without being loaded: the CLI and API read flags, env and help
 * from here (src/brokers/registry.ts), so a new broker needs no edits outside its folder but one
 * line in the registry. Kept free of heavy imports: every command reads every manifest.
 */
export interface PluginManifest {
  id: string;
  /** One line for --help. */
  description: string;
  flags: PluginFlag[];
  env: PluginEnvVar[];
  /** Loads the plugin itself (lazily: a worker loads only the broker it runs). */
  load(): Promise<BrokerPlugin<any>>;
}

export interface StreamContext {
  /** Posts an event to the core processor. Cheap: the runtime batches these. */
  emit(event: BrokerEvent): void;
  log: Logger;
  clock: Clock;
  /** Set when the session is recorded (--record): the plugin wraps its transports with it. */
  wire?: WireRecording;
  /**
   * True while the pipeline applies back-pressure (the writer is behind): a source that can
   * wait (a generator, a paged REST fetch) should produce nothing until it turns false. Events
   * emitted meanwhile are kept (nothing is dropped), they just wait in the actor.
   */
  paused?: () => boolean;
}

export interface BrokerStream {
  /** Discovers positions, connects and subscribes. Resolves once streaming (or throws a startup error). */
  start(): Promise<void>;
  /** Closes sockets and timers. Must be idempotent and must not throw. */
  stop(): Promise<void>;
  /** Re-reads positions and re-sends every subscription. */
  resubscribe(): Promise<void>;
  health(): StreamHealth;
  /**
   * True for a source that honours `ctx.paused()` (a generator: the sim). Only such actors get
   * back-pressure; a socket-fed stream keeps handing over its events, which queue (and spill
   * to the journal) in the writer, as before.
   */
  readonly pausable?: boolean;
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

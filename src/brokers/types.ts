import type { Logger } from 'pino';
import type { Clock, ManualClock } from '../core/clock.js';
import type { ReplayFeed } from './kit/replay.js';
import type { WireRecording } from './kit/wire.js';
import type { BrokerEvent, StreamState } from '../core/types.js';
import type { WatchSymbol } from '../quotes/symbols.js';

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
  replay?(config: Config, ctx: StreamContext & { clock: ManualClock }, feed: ReplayFeed): BrokerStream;
  /**
   * Optional set-up check in the main thread before any actor starts (e.g. the broker accepts the
   * keys): throws ConfigError (one line, exit 2) on a problem only the user can fix.
   */
  preflight?(config: Config): Promise<void>;
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

/** A simulator of the broker that `npm run sim -- <name>` starts on its own. */
export interface PluginSimulator {
  /** The name on the command line (`npm run sim -- <name>`). */
  name: string;
  /** One line for `npm run sim -- --help`. */
  what: string;
  /** Starts it on 127.0.0.1 (port 0 = any free port); import the simulator lazily in here. */
  start(port: number, knobs?: SimulatorKnobs): Promise<RunningSimulator>;
}

/** Market-data knobs of `npm run sim` (specs/quotes.md); a simulator ignores what it does not serve. */
export interface SimulatorKnobs {
  /** REST quote calls allowed per second before HTTP 429 (null: the simulator's default). */
  quotesPerSec: number | null;
  /** Symbols whose stream goes quiet (subscribed, no events). */
  quiet: string[];
}

export interface RunningSimulator {
  /** The --broker that connects to it. */
  broker: string;
  /** The environment that points `npm run ingest` at it. */
  env: Record<string, string>;
  close(): Promise<void>;
}

/** Where a broker connects first, for the preflight check (src/app/preflight.ts). */
export interface PreflightEndpoint {
  host: string;
  port: number;
  /** "the IBKR Client Portal gateway at https://localhost:5000" */
  what: string;
  /** The one-line fix printed when nothing answers there. */
  fix: string;
}

/** host and port of a URL (default ports by scheme), for PluginManifest.endpoint. */
export function endpointOfUrl(raw: string): { host: string; port: number } {
  const u = new URL(raw);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port) || (u.protocol === 'https:' || u.protocol === 'wss:' ? 443 : 80) };
}

/**
 * What a plugin says about itself without being loaded: the CLI and API read flags, env, help,
 * simulators and the preflight endpoint from here (src/brokers/registry.ts), so a new broker
 * needs no edits outside its folder but one line in the registry. Kept free of heavy imports:
 * every command reads every manifest (simulators are imported inside `start`).
 */
export interface PluginManifest {
  id: string;
  /** One line for --help. */
  description: string;
  flags: PluginFlag[];
  env: PluginEnvVar[];
  /** Simulators of this broker for `npm run sim` (none: the broker has no standalone simulator). */
  simulators?: PluginSimulator[];
  /**
   * Where the broker connects first, from its parsed config (the plugin's parseConfig result):
   * probed before streaming so a missing gateway ends the command with one line. Absent: no probe.
   */
  endpoint?(config: unknown): PreflightEndpoint;
  /** Loads the plugin itself (lazily: a worker loads only the broker it runs). */
  load(): Promise<BrokerPlugin<any>>;
  /**
   * How `ingest --cluster` leases this broker (specs/cluster.md, D82-D84). Absent: one unit
   * (`<id>:*`) streaming every account.
   */
  cluster?: PluginCluster;
}

export interface PluginCluster {
  /**
   * The accounts to lease one by one (unit `<id>:<account>`, its actor started with
   * `--only-account=<account>`), from configuration alone so every member computes the same
   * list; null: the broker is one unit `<id>:*`.
   */
  accounts(env: Record<string, string | undefined>, flags: PluginFlags): string[] | null;
  /** What the `<id>:*` unit covers, for status (why it is not split). */
  whole: string;
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
   * The watchlist (specs/quotes.md): symbols streamed whether held or not, replacing the
   * previous list. Called before start() with the initial list and at any time after. Streams
   * without it ignore watchlists.
   */
  setWatchlist?(symbols: WatchSymbol[]): Promise<void>;
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

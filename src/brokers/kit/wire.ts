/**
 * Wire records: every inbound message of a connection, as it arrived, so that a session can be
 * replayed through the same decode path (npm run replay). A stream's transports are wrapped by
 * its plugin when `ctx.wire` is set; the stream itself does not know it is being recorded.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { redactText } from '../../core/logger.js';

export interface WireRecord {
  /** Receipt time (epoch ms, the stream's clock): replay delivers the record at this time. */
  t: number;
  /** The connection kind within the actor (`ws`, `rest`, `api`, `dxlink`, `account`...). */
  ch: string;
  /** Connection number within `ch` (1, 2, … per socket opened); 0 for REST. */
  conn: number;
  /** `msg` a message; `open`/`close` a socket event; `reply` a REST answer; `error` a failure. */
  kind: 'msg' | 'open' | 'close' | 'reply' | 'error';
  /** REST: `METHOD path`; TWS: the event name. */
  key?: string;
  /** Text payload, or JSON of a structured one (a REST body, event arguments). */
  text?: string;
  /** Binary payload, base64. */
  b64?: string;
}

export interface WireTap {
  record(rec: WireRecord): void;
}

/**
 * What a plugin gets in `ctx.wire` while recording: the tap, and the stream's clock pinned to a
 * record's receipt time while the stream handles it (see PinnedClock).
 */
export interface WireRecording extends WireTap {
  /** Runs a synchronous handler with now() = t. */
  at<R>(t: number, fn: () => R): R;
  /** now() = t until the current macrotask ends: a REST reply's continuation sees its receipt time. */
  pinUntilIdle(t: number): void;
  now(): number;
}

/** First line of every recording file: what to build the replay stream from. */
export interface WireMeta {
  kind: 'meta';
  actor: string;
  broker: string;
  /** The plugin config with every secret-looking field removed. */
  config: unknown;
  startedAt: number;
  /** One stream instance (a worker restart starts another): replay builds one stream per session. */
  session: string;
}

const SECRET_KEY = /(secret|token|password|passwd|authorization|cookie|session|api[-_]?key|refresh)/i;
const MASK = '***';

/** Tokens and secrets out of a wire message: values of secret-looking JSON keys, then what the log redaction strips. */
export function redactWire(text: string): string {
  return redactText(text.replace(/("[^"\\]*(?:secret|token|password|authorization|cookie|session|api[-_]?key|refresh)[^"\\]*"\s*:\s*)"(?:[^"\\]|\\.)*"/gi, `$1"${MASK}"`));
}

/** A structured value with every secret-looking key masked (deep). */
export function redactValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactValue);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && typeof v !== 'object' ? MASK : redactValue(v);
    return out;
  }
  return typeof value === 'string' ? redactWire(value) : value;
}

/**
 * The stream's clock while recording: `at(t, fn)` runs fn with now() pinned to the receipt time
 * the record carries, so what the stream stamps (receivedAt, eventTs) equals what replay will
 * stamp when it delivers the record at `t`.
 */
export class PinnedClock implements Clock {
  private pinned: number | null = null;
  constructor(private readonly inner: Clock) {}
  now(): number {
    return this.pinned ?? this.inner.now();
  }
  pinUntilIdle(t: number): void {
    this.pinned = t;
    setImmediate(() => {
      if (this.pinned === t) this.pinned = null;
    });
  }
  at<R>(t: number, fn: () => R): R {
    const prev = this.pinned;
    this.pinned = t;
    try {
      return fn();
    } finally {
      this.pinned = prev;
    }
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.inner.setTimeout(fn, ms);
  }
  clearTimeout(h: TimerHandle | undefined): void {
    this.inner.clearTimeout(h);
  }
  setInterval(fn: () => void, ms: number): TimerHandle {
    return this.inner.setInterval(fn, ms);
  }
  clearInterval(h: TimerHandle | undefined): void {
    this.inner.clearInterval(h);
  }
}

/** A tap plus the pinned clock the recorded stream runs on. */
export function wireRecording(tap: WireTap, clock: PinnedClock): WireRecording {
  return {
    record: (rec) => tap.record(rec),
    at: (t, fn) => clock.at(t, fn),
    pinUntilIdle: (t) => clock.pinUntilIdle(t),
    now: () => clock.now(),
  };
}

/**
 * Event arguments as JSON that survives the round trip: Error, undefined, NaN and ±Infinity are
 * tagged (plain JSON would turn them into {} and null, which the decoder treats differently).
 */
export function encodeArgs(args: unknown[]): string {
  const tag = (v: unknown): unknown => {
    if (v === undefined) return { $u: 1 };
    if (typeof v === 'number' && !Number.isFinite(v)) return { $n: String(v) };
    if (v instanceof Error) return { $e: v.message, code: (v as { code?: unknown }).code };
    if (Array.isArray(v)) return v.map(tag);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tag(x)]));
    return v;
  };
  return JSON.stringify(tag(args));
}

export function decodeArgs(text: string | undefined): unknown[] {
  const untag = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(untag);
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if ('$u' in o) return undefined;
      if ('$n' in o) return Number(o.$n);
      if ('$e' in o) return Object.assign(new Error(String(o.$e)), o.code === undefined ? {} : { code: o.code });
      return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, untag(x)]));
    }
    return v;
  };
  const out = untag(JSON.parse(text ?? '[]'));
  return Array.isArray(out) ? out : [];
}

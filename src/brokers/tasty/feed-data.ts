/**
 * Decoding DXLink FEED_DATA ourselves. The 0.3.0 DXLinkFeed reads only the first [type, values]
 * pair of a COMPACT message and drops a whole message when one event is short; a server may
 * legally batch several types in one message. We keep the field lists the server announced in
 * FEED_CONFIG (by name: the order may differ from what we asked for) and decode every pair.
 */

export type RawEvent = Record<string, unknown> & { eventType: string };

export interface DecodedData {
  events: RawEvent[];
  /** One reason per unusable part of the message. */
  malformed: string[];
}

/** Field names per event type, as the server announced them. Updated by every FEED_CONFIG. */
export class FeedSchema {
  private fields = new Map<string, string[]>();

  /** Applies a FEED_CONFIG message; returns a reason when it is malformed. */
  applyConfig(msg: Record<string, unknown>): string | null {
    const ef = msg.eventFields;
    if (ef === undefined) return null;
    if (!ef || typeof ef !== 'object' || Array.isArray(ef)) return 'FEED_CONFIG eventFields is not an object';
    // One bad entry must not cost the valid types announced beside it.
    let bad: string | null = null;
    for (const [type, list] of Object.entries(ef as Record<string, unknown>)) {
      if (!Array.isArray(list) || list.length === 0 || !list.every((f) => typeof f === 'string')) {
        bad ??= `FEED_CONFIG eventFields.${type} is not a list of names`;
        continue;
      }
      this.fields.set(type, list as string[]);
    }
    return bad;
  }

  fieldsOf(type: string): string[] | undefined {
    return this.fields.get(type);
  }

  clear(): void {
    this.fields.clear();
  }
}

/** Decodes the `data` of a FEED_DATA message, COMPACT (any number of pairs) or FULL. */
export function decodeFeedData(data: unknown, schema: FeedSchema): DecodedData {
  const out: DecodedData = { events: [], malformed: [] };
  if (!Array.isArray(data)) {
    out.malformed.push('FEED_DATA data is not a list');
    return out;
  }
  if (data.length === 0) return out;
  if (typeof data[0] === 'object' && data[0] !== null && !Array.isArray(data[0])) {
    decodeFull(data, out);
    return out;
  }
  for (let i = 0; i < data.length; i += 2) {
    const type = data[i];
    const values = data[i + 1];
    if (typeof type !== 'string' || !Array.isArray(values)) {
      out.malformed.push('FEED_DATA is neither COMPACT [type, values, ...] nor FULL');
      return out;
    }
    decodeCompact(type, values, schema, out);
  }
  return out;
}

function decodeCompact(type: string, values: unknown[], schema: FeedSchema, out: DecodedData): void {
  const fields = schema.fieldsOf(type);
  if (!fields) {
    out.malformed.push(`FEED_DATA for ${type} before its FEED_CONFIG`);
    return;
  }
  const whole = Math.floor(values.length / fields.length);
  for (let e = 0; e < whole; e++) {
    const ev: RawEvent = { eventType: type };
    for (let f = 0; f < fields.length; f++) ev[fields[f]] = values[e * fields.length + f];
    // A server may announce eventType among the fields; the pair's type is authoritative.
    ev.eventType = type;
    out.events.push(ev);
  }
  if (values.length % fields.length !== 0) {
    out.malformed.push(`FEED_DATA ${type}: ${values.length % fields.length} trailing values of a partial event`);
  }
}

function decodeFull(data: unknown[], out: DecodedData): void {
  for (const item of data) {
    if (!item || typeof item !== 'object' || Array.isArray(item)) {
      out.malformed.push('FEED_DATA FULL item is not an object');
      continue;
    }
    const ev = item as Record<string, unknown>;
    if (typeof ev.eventType !== 'string') {
      out.malformed.push('FEED_DATA FULL item without eventType');
      continue;
    }
    out.events.push(ev as RawEvent);
  }
}

/** What one inbound text frame meant to us. */
export interface Frame {
  /** Parsed message, or null when the frame is not a DXLink message at all. */
  msg: (Record<string, unknown> & { type: string; channel: number }) | null;
  malformed: string[];
}

/** Parses one text frame and checks the envelope every DXLink message has (type + channel). */
export function parseFrame(text: string): Frame {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return { msg: null, malformed: ['frame is not JSON'] };
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return { msg: null, malformed: ['frame is not a JSON object'] };
  const m = msg as Record<string, unknown>;
  if (typeof m.type !== 'string' || typeof m.channel !== 'number') return { msg: null, malformed: ['message without type or channel'] };
  return { msg: m as Frame['msg'], malformed: [] };
}

/**
 * Inbound WebSocket messages of the Client Portal gateway, classified. The gateway sends JSON
 * (sometimes as binary frames); topics we do not use (blt, ntf, act, ...) are valid and
 * ignored, not malformed. Pure: text in, one tagged message out.
 */

export type Inbound =
  | { type: 'hb' }
  | { type: 'sts'; authenticated: boolean | null; competing: boolean | null; connected: boolean | null }
  | { type: 'tic' }
  | { type: 'system' }
  | { type: 'smd'; conid: number; updated: number | null; fields: Record<string, unknown> }
  | { type: 'other'; topic: string }
  | { type: 'malformed'; reason: string };

const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : v === 'true' ? true : v === 'false' ? false : null);

function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

export function parseInbound(data: string): Inbound {
  let msg: unknown;
  try {
    msg = JSON.parse(data);
  } catch {
    return { type: 'malformed', reason: 'not JSON' };
  }
  if (!msg || typeof msg !== 'object' || Array.isArray(msg)) return { type: 'malformed', reason: 'not a JSON object' };
  const m = msg as Record<string, unknown>;
  const topic = typeof m.topic === 'string' ? m.topic : '';

  if (topic === 'system') return 'hb' in m ? { type: 'hb' } : { type: 'system' };
  if (topic === 'tic') return { type: 'tic' };
  if (topic === 'sts') {
    const a = m.args && typeof m.args === 'object' ? (m.args as Record<string, unknown>) : {};
    return { type: 'sts', authenticated: bool(a.authenticated), competing: bool(a.competing), connected: bool(a.connected) };
  }
  if (topic.startsWith('smd+')) {
    const conid = num(m.conid) ?? num(topic.slice(4));
    if (conid === null || !Number.isInteger(conid) || conid <= 0) return { type: 'malformed', reason: 'smd without a valid conid' };
    const updated = num(m._updated);
    const fields: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(m)) if (/^\d+$/.test(k)) fields[k] = v;
    return { type: 'smd', conid, updated, fields };
  }
  if (topic === '') return { type: 'malformed', reason: 'message without a topic' };
  return { type: 'other', topic };
}

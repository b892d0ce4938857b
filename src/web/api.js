// Talking to the API: the bearer token (entered once, kept in sessionStorage for this tab only),
// JSON GETs, and the /v1/events stream. EventSource cannot send headers, so with a token the
// page first trades it for a one-time ticket (POST /v1/events/ticket) and opens ?ticket=...
const TOKEN_KEY = 'riskwire.apiToken';

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) || '',
  set: (t) => sessionStorage.setItem(TOKEN_KEY, t.trim()),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class AuthError extends Error {}

function headers() {
  const t = token.get();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** GET a JSON route. Throws AuthError on 401, Error(message) on any other failure. */
export async function getJson(path) {
  const res = await fetch(path, { headers: headers() });
  if (res.status === 401) throw new AuthError('API token needed');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `${path}: HTTP ${res.status}`);
  return body;
}

/**
 * Opens /v1/events and keeps it open: on a closed stream it waits, takes a fresh ticket and
 * reconnects. `on` maps event names to handlers; onState(text) reports "live" / "reconnecting".
 */
export function openEvents(on, onState) {
  let es = null;
  let stopped = false;
  const connect = async () => {
    if (stopped) return;
    let url = '/v1/events';
    if (token.get()) {
      const res = await fetch('/v1/events/ticket', { method: 'POST', headers: headers() }).catch(() => null);
      if (!res || !res.ok) {
        onState(res && res.status === 401 ? 'unauthorized' : 'reconnecting');
        if (!res || res.status !== 401) setTimeout(connect, 2000);
        return;
      }
      url += `?ticket=${encodeURIComponent((await res.json()).ticket)}`;
    }
    es = new EventSource(url);
    es.onopen = () => onState('live');
    es.onerror = () => {
      onState('reconnecting');
      // A used ticket cannot reconnect by itself: start over with a new one.
      if (es.readyState === EventSource.CLOSED || token.get()) {
        es.close();
        setTimeout(connect, 2000);
      }
    };
    for (const [name, fn] of Object.entries(on)) es.addEventListener(name, (e) => fn(JSON.parse(e.data)));
  };
  connect();
  return () => {
    stopped = true;
    es?.close();
  };
}

/**
 * TWS notice and error codes → what the stream does about them (pure).
 * TWS reports connection health only through these codes, so this table is the whole
 * recovery policy; the stream applies it.
 */

export type NoticeAction =
  /** 1100: TWS lost IB's servers; the socket is fine, data is not. */
  | { kind: 'degraded'; reason: string }
  /** 1101: back, but TWS dropped every market-data subscription: send them all again. */
  | { kind: 'restored-resubscribe'; reason: string }
  /** 1102: back with subscriptions kept. */
  | { kind: 'restored'; reason: string }
  /** 2103: a market-data farm is down; wait for 2104. */
  | { kind: 'farm-broken'; reason: string }
  /** 2104 (and 2106/2158 for other farms): farm OK. Only after a 2103 does it mean "resubscribe". */
  | { kind: 'farm-ok'; reason: string }
  /** 10197: another session (TWS, mobile, web) took the live data; this one gets nothing. */
  | { kind: 'competing'; reason: string }
  /** 10167: no live subscription, TWS shows delayed data instead: keep it, warn once. */
  | { kind: 'delayed-data'; reason: string }
  /** 354: no data permission for that request at all. */
  | { kind: 'not-subscribed'; reason: string }
  /** 505/507/508: @stoqey/ib could not decode a message (field count, unknown id). */
  | { kind: 'malformed'; reason: string }
  /** 502/504 and friends: the socket itself failed (reconnect follows from `disconnected`). */
  | { kind: 'connection-error'; reason: string }
  /** 326: client id already in use; 10225-ish bust events: the session is unusable. */
  | { kind: 'fatal-session'; reason: string }
  /** Everything else: informational (2108 farm inactive, 2158 sec-def OK, ...). */
  | { kind: 'info'; reason: string }
  /** A request-level error not covered above (200 no security definition, ...). */
  | { kind: 'request-error'; reason: string };

export function classifyNotice(code: number, message: string, reqId: number | undefined): NoticeAction {
  const reason = `${code} ${message}`.trim();
  switch (code) {
    case 1100: return { kind: 'degraded', reason };
    case 1101: return { kind: 'restored-resubscribe', reason };
    case 1102: return { kind: 'restored', reason };
    case 2103: case 2105: case 2157: return { kind: 'farm-broken', reason };
    case 2104: case 2106: case 2158: return { kind: 'farm-ok', reason };
    case 2108: case 2107: case 2119: return { kind: 'info', reason };
    case 10197: return { kind: 'competing', reason };
    case 10167: return { kind: 'delayed-data', reason };
    case 354: return { kind: 'not-subscribed', reason };
    case 505: case 507: case 508: return { kind: 'malformed', reason };
    case 502: case 504: case 509: return { kind: 'connection-error', reason };
    case 326: return { kind: 'fatal-session', reason };
    default:
      // Codes 2100-2199 are warnings about the TWS session; with a request id anything else is that request's failure.
      if (code >= 2100 && code < 2200) return { kind: 'info', reason };
      return reqId !== undefined && reqId >= 0 ? { kind: 'request-error', reason } : { kind: 'info', reason };
  }
}

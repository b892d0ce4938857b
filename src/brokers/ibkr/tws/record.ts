/**
 * Record and replay of the TWS transport at the IBApi event level (channel `api`): what the
 * stream's handlers receive from @stoqey/ib's decoder, plus the decoder's own failures.
 */
import { EventEmitter } from 'node:events';
import type { ReplayFeed } from '../../kit/replay.js';
import { decodeArgs, encodeArgs, type WireRecording } from '../../kit/wire.js';
import type { TwsApi, TwsApiFactory } from './api.js';

/** 'received' fires for every raw message: it is kept (the watchdog's life sign) without its tokens. */
const WITHOUT_ARGS = new Set(['received']);

export function recordingApi(create: TwsApiFactory, wire: WireRecording): TwsApiFactory {
  let n = 0;
  return (options, hooks) => {
    const conn = ++n;
    const api = create(options, {
      onDecodeError: (message) => {
        const t = wire.now();
        wire.record({ t, ch: 'api', conn, kind: 'error', key: 'decode', text: encodeArgs([message]) });
        wire.at(t, () => hooks.onDecodeError(message));
      },
    });
    const on = api.on.bind(api);
    return Object.assign(api, {
      on: (event: string, listener: (...args: any[]) => void) =>
        on(event, (...args: any[]) => {
          const t = wire.now();
          wire.record({ t, ch: 'api', conn, kind: 'msg', key: event, text: WITHOUT_ARGS.has(event) ? '[]' : encodeArgs(args) });
          wire.at(t, () => listener(...args));
        }),
    });
  };
}

class ReplayApi extends EventEmitter implements TwsApi {
  constructor(private readonly onClose: () => void) {
    super();
  }
  connect(): void {}
  disconnect(): void {
    this.onClose();
  }
  reqMarketDataType(): void {}
  reqPositions(): void {}
  cancelPositions(): void {}
  reqMktData(): void {}
  cancelMktData(): void {}
  reqCurrentTime(): void {}
}

export function replayApi(feed: ReplayFeed): TwsApiFactory {
  const sockets = feed.sockets('api');
  return (_options, hooks) => {
    let close = () => {};
    const api = new ReplayApi(() => close());
    close = sockets.open((rec) => {
      if (rec.kind === 'error' && rec.key === 'decode') hooks.onDecodeError(String(decodeArgs(rec.text)[0] ?? ''));
      else if (rec.kind === 'msg' && rec.key) api.emit(rec.key, ...decodeArgs(rec.text));
    }).close;
    return api;
  };
}

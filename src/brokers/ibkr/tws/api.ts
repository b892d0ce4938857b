/**
 * The slice of @stoqey/ib's IBApi the TWS stream uses, and its default factory. Tests swap in a
 * fake through TwsStreamOptions.createApi to drive reconnects and heartbeats with a FakeClock.
 */
import { IBApi, type Contract } from '@stoqey/ib';
import { errorText } from '../../../core/errors.js';

export interface TwsApi {
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeAllListeners(): unknown;
  connect(): unknown;
  disconnect(): unknown;
  reqMarketDataType(marketDataType: number): unknown;
  reqPositions(): unknown;
  cancelPositions(): unknown;
  reqMktData(reqId: number, contract: Contract, genericTickList: string, snapshot: boolean, regulatorySnapshot: boolean): unknown;
  cancelMktData(reqId: number): unknown;
  reqCurrentTime(): unknown;
  readonly serverVersion?: number;
}

export interface TwsApiOptions {
  /** @stoqey/ib's own send pacing (every message); default 40. */
  maxReqPerSec?: number;
  host: string;
  port: number;
  clientId: number;
}

export interface TwsApiHooks {
  /** @stoqey/ib threw while decoding a message (see guardDecoder). */
  onDecodeError(message: string): void;
}

export type TwsApiFactory = (options: TwsApiOptions, hooks: TwsApiHooks) => TwsApi;

interface DecoderLike {
  process(): void;
  drainQueue?(): void;
}

/**
 * @stoqey/ib decodes inside the socket's 'data' handler and rethrows anything but an underrun
 * (a bad JSON in an error message, say): that would be an uncaught exception in the worker.
 * Wrapping the decoder turns it into a counted malformed message and keeps the stream alive.
 * This reaches into a private field; if a future version moves it, the guard is skipped.
 */
function guardDecoder(api: IBApi, hooks: TwsApiHooks): void {
  const decoder = (api as unknown as { controller?: { decoder?: DecoderLike } }).controller?.decoder;
  if (!decoder || typeof decoder.process !== 'function') return;
  const process = decoder.process.bind(decoder);
  decoder.process = () => {
    // Each round either finishes the queue or drops the message that threw.
    for (let round = 0; round < 1000; round++) {
      try {
        process();
        return;
      } catch (err) {
        decoder.drainQueue?.();
        hooks.onDecodeError(`decode failed: ${errorText(err)}`);
      }
    }
  };
}

export const createIbApi: TwsApiFactory = (options, hooks) => {
  const api = new IBApi({ host: options.host, port: options.port, clientId: options.clientId, ...(options.maxReqPerSec ? { maxReqPerSec: options.maxReqPerSec } : {}) });
  guardDecoder(api, hooks);
  return api as unknown as TwsApi;
};

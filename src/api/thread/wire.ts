/** Errors across the thread boundary: the classes the API's error handler tells apart survive the trip. */
import { ConfigError } from '../../core/errors.js';
import { JournalUnavailableError } from '../../core/journal.js';
import { StorageError } from '../../db/errors.js';
import { HttpError } from '../errors.js';
import type { WireError } from './protocol.js';

export function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const e = err as Error & { code?: unknown; retryable?: unknown; statusCode?: unknown; headers?: unknown };
  return {
    name: e.name, message: e.message,
    code: typeof e.code === 'string' ? e.code : undefined,
    retryable: typeof e.retryable === 'boolean' ? e.retryable : undefined,
    statusCode: typeof e.statusCode === 'number' ? e.statusCode : undefined,
    headers: err instanceof HttpError ? err.headers : undefined,
  };
}

export function fromWire(w: WireError): Error {
  switch (w.name) {
    case 'HttpError': return new HttpError(w.statusCode ?? 500, w.message, w.headers ?? {});
    case 'ConfigError': return new ConfigError(w.message);
    case 'JournalUnavailableError': return new JournalUnavailableError(w.message);
    case 'StorageError': return new StorageError(w.message, w.retryable ?? false, w.code);
    default: {
      const err = new Error(w.message) as Error & { code?: string; statusCode?: number };
      err.name = w.name;
      if (w.code) err.code = w.code;
      if (w.statusCode) err.statusCode = w.statusCode;
      return err;
    }
  }
}

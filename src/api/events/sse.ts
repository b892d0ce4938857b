/**
 * One server-sent-events connection: frames written to the raw response, a comment line as a
 * heartbeat, and a bound on what may wait in the socket buffer. A client that stops reading
 * (buffer past MAX_BUFFERED_BYTES) is disconnected instead of growing server memory; its
 * EventSource reconnects and starts from a fresh snapshot.
 */
import type { ServerResponse } from 'node:http';

export const MAX_BUFFERED_BYTES = 1 << 20;

export class SseClient {
  private closed = false;
  private closeListeners: (() => void)[] = [];

  constructor(private readonly res: ServerResponse, retryMs = 2000) {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no', // nginx: do not buffer the stream
    });
    res.write(`retry: ${retryMs}\n\n`);
    res.on('close', () => this.markClosed());
  }

  get isClosed(): boolean {
    return this.closed;
  }

  onClose(fn: () => void): void {
    if (this.closed) fn();
    else this.closeListeners.push(fn);
  }

  /** Sends one event; false (and the connection closed) when the client is too far behind. */
  send(event: string, data: unknown): boolean {
    if (this.closed) return false;
    if (this.res.writableLength > MAX_BUFFERED_BYTES) {
      this.close();
      return false;
    }
    this.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    return true;
  }

  heartbeat(): void {
    if (!this.closed) this.res.write(': keep-alive\n\n');
  }

  close(): void {
    if (!this.closed) this.res.end();
    this.markClosed();
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    for (const fn of this.closeListeners.splice(0)) fn();
  }
}

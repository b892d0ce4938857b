/**
 * Short-lived, single-use tickets for server-sent event streams. A browser's EventSource cannot
 * send an Authorization header, so the page trades its bearer token (sent as a header on
 * POST /v1/events/ticket) for a random ticket and opens the stream with ?ticket=. The ticket
 * works once, within TICKET_TTL_MS, and only for the SSE routes (app.ts): a copy that leaks into
 * a proxy log or the browser history is useless seconds later. specs/web.md, "Auth".
 */
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '../../core/clock.js';

export const TICKET_TTL_MS = 30_000;
/** Outstanding tickets at most; past this the oldest go first, so a token holder cannot grow memory without bound. */
export const MAX_TICKETS = 1000;

export class TicketBook {
  /** ticket → expiry (epoch ms); Map keeps insertion order, oldest first. */
  private tickets = new Map<string, number>();

  constructor(private readonly clock: Clock = systemClock, private readonly ttlMs = TICKET_TTL_MS) {}

  issue(): { ticket: string; expiresInMs: number } {
    this.prune();
    while (this.tickets.size >= MAX_TICKETS) this.tickets.delete(this.tickets.keys().next().value!);
    const ticket = randomBytes(24).toString('base64url');
    this.tickets.set(ticket, this.clock.now() + this.ttlMs);
    return { ticket, expiresInMs: this.ttlMs };
  }

  /** True once per issued ticket, before it expires; the ticket is gone afterwards either way. */
  redeem(ticket: unknown): boolean {
    if (typeof ticket !== 'string' || ticket.length === 0) return false;
    const expires = this.tickets.get(ticket);
    if (expires === undefined) return false;
    this.tickets.delete(ticket);
    return this.clock.now() < expires;
  }

  size(): number {
    this.prune();
    return this.tickets.size;
  }

  private prune(): void {
    const now = this.clock.now();
    for (const [t, exp] of this.tickets) {
      if (exp > now) break; // insertion order = expiry order (one TTL)
      this.tickets.delete(t);
    }
  }
}

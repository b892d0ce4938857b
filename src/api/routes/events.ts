/**
 * GET /v1/events: server-sent events for live pages (greeks, status, risk, alert; see
 * events/hub.ts), and POST /v1/events/ticket, which trades the bearer token for a one-time
 * ticket because EventSource cannot send headers (events/tickets.ts, specs/web.md).
 */
import type { FastifyInstance } from 'fastify';
import { systemClock } from '../../core/clock.js';
import type { ApiDeps } from '../deps.js';
import { EventHub } from '../events/hub.js';
import { SseClient } from '../events/sse.js';
import type { TicketBook } from '../events/tickets.js';
import { fromQuery } from '../query.js';
import { EVENTS_QUERY, NO_QUERY } from '../schemas/queries.js';
import { streamingStatus } from './streaming.js';

export function registerEvents(app: FastifyInstance, deps: ApiDeps, tickets: TicketBook): EventHub {
  const { pipeline } = deps;
  const hub = new EventHub({
    latest: pipeline.processor,
    status: () => {
      const doc = streamingStatus(pipeline);
      return { doc, key: doc.actors.map((a) => `${a.actor}:${a.state}:${a.phase}`).join(',') };
    },
    risk: deps.risk,
    clock: deps.clock ?? systemClock,
    log: deps.log,
  });
  // Open streams would keep app.close() waiting forever: end them first.
  app.addHook('preClose', async () => hub.closeAll());

  app.post('/v1/events/ticket', { schema: { summary: 'A one-time ticket for GET /v1/events (EventSource cannot send a bearer token)', tags: ['events'], querystring: NO_QUERY } }, async () => {
    const { ticket, expiresInMs } = tickets.issue();
    return { ticket, expires_in_ms: expiresInMs };
  });

  app.get('/v1/events', { schema: { summary: 'Server-sent events of the web page (snapshots, status, alerts)', tags: ['events'], querystring: EVENTS_QUERY } }, async (req, reply) => {
    fromQuery(req.query, ['ticket']); // the ticket itself was checked by the auth hook
    reply.hijack();
    const client = new SseClient(reply.raw);
    hub.add(client);
  });
  return hub;
}

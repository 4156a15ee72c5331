/**
 * Outbound webhooks: register a URL for event names, list and remove webhooks, see a webhook's
 * deliveries and replay one. The signing secret is returned once, at registration. Fan-out and
 * delivery: data/webhooks.ts and engine/webhook-delivery.ts; the scheme: docs/webhooks.md.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { ContactError } from '../../data/contacts';
import { createWebhooks, type Webhooks } from '../../data/webhooks';
import type { WebhookDeliveryDoc, WebhookDoc } from '../../data/webhook-model';
import type { ApiOptions } from './api-options';
import { useApiValidation } from './validation';
import { errorResponse } from './schemas';
import { deletedResponse, deliveriesQuery, deliveryPage, deliveryParams, deliveryResponse, webhookIdParams, webhookInput, webhookList, webhookResponse } from './resource-schemas';

const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse };

const webhookJson = (w: WebhookDoc, withSecret = false) => ({
  id: w._id, url: w.url, events: w.events, active: w.active, description: w.description, createdAt: w.createdAt,
  ...(withSecret ? { secret: w.secret } : {}),
});
const deliveryJson = (d: WebhookDeliveryDoc) => ({
  id: d._id, eventId: d.eventId, event: d.event, state: d.state, attempts: d.attempts, nextAttemptAt: d.nextAttemptAt,
  lastStatus: d.lastStatus, lastError: d.lastError, createdAt: d.createdAt, deliveredAt: d.deliveredAt,
});

export const webhooksRoutes: FastifyPluginAsync<ApiOptions & { webhookStore?: Webhooks }> = async (app: FastifyInstance, opts) => {
  useApiValidation(app);
  const webhooks = opts.webhookStore ?? createWebhooks(opts.webhooks);
  const tags = ['webhooks'];
  const notFound = () => new ContactError('E_NOT_FOUND', 'no webhook with this id', '/params/id', 404);
  const hook = async (id: string) => {
    const w = await webhooks.get(id);
    if (!w) throw notFound();
    return w;
  };

  app.post<{ Body: { url: string; events: string[]; description?: string } }>(
    '/v1/webhooks',
    { schema: { tags, summary: 'Register a URL for event names (the answer holds the signing secret, shown once)', body: webhookInput, response: { 201: webhookResponse, ...errors } } },
    async (req, reply) => reply.code(201).send(webhookJson(await webhooks.register(req.body), true)),
  );

  app.get('/v1/webhooks', { schema: { tags, summary: 'Registered webhooks', response: { 200: webhookList, ...errors } } }, async () => ({
    webhooks: (await webhooks.list()).map((w) => webhookJson(w)),
  }));

  app.get<{ Params: { id: string } }>('/v1/webhooks/:id', { schema: { tags, summary: 'A webhook', params: webhookIdParams, response: { 200: webhookResponse, ...errors } } }, async (req) =>
    webhookJson(await hook(req.params.id)),
  );

  app.delete<{ Params: { id: string } }>('/v1/webhooks/:id', { schema: { tags, summary: 'Remove a webhook (its pending deliveries are dropped)', params: webhookIdParams, response: { 200: deletedResponse, ...errors } } }, async (req) => {
    if (!(await webhooks.remove(req.params.id))) throw notFound();
    return { deleted: true };
  });

  app.get<{ Params: { id: string }; Querystring: { limit: number; cursor?: string } }>(
    '/v1/webhooks/:id/deliveries',
    { schema: { tags, summary: "A webhook's deliveries: state, attempts, last answer", params: webhookIdParams, querystring: deliveriesQuery, response: { 200: deliveryPage, ...errors } } },
    async (req) => {
      await hook(req.params.id);
      const page = await webhooks.deliveries(req.params.id, { limit: req.query.limit, after: req.query.cursor });
      return { deliveries: page.deliveries.map(deliveryJson), next: page.next };
    },
  );

  app.post<{ Params: { id: string; eventId: string } }>(
    '/v1/webhooks/:id/deliveries/:eventId/replay',
    { schema: { tags, summary: 'Send a delivery again, with the same event id', params: deliveryParams, response: { 202: deliveryResponse, ...errors } } },
    async (req, reply) => {
      await hook(req.params.id);
      const d = await webhooks.replay(req.params.id, req.params.eventId);
      if (!d) throw new ContactError('E_NOT_FOUND', 'no delivery of this event to this webhook', '/params/eventId', 404);
      return reply.code(202).send(deliveryJson(d));
    },
  );
};

/**
 * The suppression list by address: add, check, remove. Every call carries the address in a JSON body,
 * never in the URL (URLs end up in logs); only its keyed hash is stored (data/suppression-admin.ts).
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { createContacts } from '../../data/contacts';
import { addSuppression, checkSuppression, removeSuppression } from '../../data/suppression-admin';
import type { SuppressionReason } from '../../data/suppression-model';
import type { ApiOptions } from './api-options';
import { useApiValidation } from './validation';
import { errorResponse } from './schemas';
import { addressBody, suppressionState } from './resource-schemas';

const errors = { 400: errorResponse, 401: errorResponse, 409: errorResponse };
const checkBody = { ...addressBody, properties: { email: addressBody.properties.email } };

export const suppressionsRoutes: FastifyPluginAsync<ApiOptions> = async (app: FastifyInstance, opts: ApiOptions) => {
  useApiValidation(app);
  const contacts = opts.contacts ?? createContacts({ secret: opts.config.secret, phoneKey: opts.config.phoneKey });
  const tags = ['suppressions'];

  app.post<{ Body: { email: string; reason: SuppressionReason } }>(
    '/v1/suppressions',
    { schema: { tags, summary: 'Suppress an address (stored as a keyed hash; the first reason stays)', body: addressBody, response: { 200: suppressionState, 201: suppressionState, ...errors } } },
    async (req, reply) => {
      const r = await addSuppression(contacts, req.body.email, req.body.reason);
      return reply.code(r.created ? 201 : 200).send(r);
    },
  );

  app.post<{ Body: { email: string } }>(
    '/v1/suppressions/check',
    { schema: { tags, summary: 'Is this address suppressed, and why', body: checkBody, response: { 200: suppressionState, ...errors } } },
    async (req) => checkSuppression(contacts, req.body.email),
  );

  app.post<{ Body: { email: string } }>(
    '/v1/suppressions/remove',
    { schema: { tags, summary: 'Lift a suppression (an erasure stays)', body: checkBody, response: { 200: suppressionState, ...errors } } },
    async (req) => {
      const r = await removeSuppression(contacts, req.body.email);
      return { suppressed: false, reason: r.reason, since: null, removed: r.removed };
    },
  );
};

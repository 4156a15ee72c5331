/**
 * The HTTP API (fastify plugin), versioned under /v1, for integrations: contacts (upsert, get,
 * search, tags, export, erase) and events. JSON Schema validated (strict, errors carry the JSON
 * pointer of the bad field), API-key auth (Authorization: Bearer <key> or X-API-Key), OpenAPI at
 * /v1/openapi.json. Every request is validated completely before anything is written.
 *
 *   app.register(apiPlugin, { config, ingest: createIngest({ dispatcher }).ingest })
 */
import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { createContacts, ContactError, toObjectId, type ContactInput } from '../../data/contacts';
import { ContactModel, type ContactDoc } from '../../data/contact-model';
import { apiContact, type ApiOptions } from './api-options';
import { createIngest } from '../../engine/ingest';
import { toContactView } from '../../data/contact-view';
import { toMongoFilter } from '../../rules/pushdown';
import { segmentFilter } from '../../rules/segment-filter';
import { compileExpression, evaluateBool } from '../../rules/evaluate';
import { expressionCost, SEARCH_BUDGET } from '../../rules/cel-limits';
import { contactIdParams, contactInput, upsertQuery, errorResponse, eventBatch, eventInput, searchBody, tagsBody } from './schemas';
import { errorHandler } from './errors';
import { requireApiKey } from '../auth';
import { useStrictJson } from './json-body';
import { registerDocsPage } from './docs-page';
import { eraseResponse, eventBatchResponse, eventResult, exportResponse, getContactResponse, searchResponse, tagsResponse, upsertResponse } from './resource-schemas';
import { idempotencyPlugin } from './idempotency';
import { contactsRoutes } from './contacts-routes';
import { suppressionsRoutes } from './suppressions-routes';
import { journeysRoutes } from './journeys-routes';
import { importsRoutes } from './imports-routes';
import { webhooksRoutes } from './webhooks-routes';
import { reportsRoutes } from './reports-routes';
import { tasksRoutes } from './tasks-routes';

export { apiContact, type ApiOptions } from './api-options';

const SEARCH_SCAN_LIMIT = 10_000;

/**
 * The contact and event routes. Registered inside the authenticated context of `apiPlugin`, so they
 * never see a request without a valid key.
 */
export const contactAndEventRoutes: FastifyPluginAsync<ApiOptions> = async (app: FastifyInstance, opts: ApiOptions) => {
  const contacts = opts.contacts ?? createContacts({ secret: opts.config.secret, phoneKey: opts.config.phoneKey });
  const ingest = opts.ingest ?? createIngest({ dispatcher: null, contacts }).ingest;

  const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse };
  const notFound = () => new ContactError('E_NOT_FOUND', 'no contact with this id', '/params/id', 404);

  const upsert = async (req: FastifyRequest<{ Body: ContactInput; Querystring: { strict?: 'true' | 'false' } }>, reply: FastifyReply) => {
    // The address before the upsert, to tell an address change (the verification journey listens for it).
    const before = req.body.externalId ? await ContactModel.findOne({ externalId: req.body.externalId }, { emailKey: 1 }).lean<{ emailKey?: string }>().exec() : null;
    // Keep the person, drop the bad field (warnings in the answer); ?strict=true rejects with a 400 naming the field.
    const r = await contacts.upsertContact(req.body, { source: 'api', lenient: req.query.strict !== 'true' });
    const id = String(r.contact._id);
    // Lifecycle events with deterministic ids, so a retried request does not start anything twice.
    // The contact is stored whatever happens to the hand-over: `dispatched: false` = the event waits in the outbox.
    let dispatched = true;
    if (r.created) dispatched = (await record({ eventId: `contact.created:${id}`, contactId: id, name: 'contact.created' })).dispatched;
    else if (before?.emailKey && r.contact.emailKey && before.emailKey !== r.contact.emailKey) {
      dispatched = (await record({ eventId: `contact.email_changed:${id}:${r.contact.rev}`, contactId: id, name: 'contact.email_changed' })).dispatched;
    }
    return reply.code(r.created ? 201 : 200).send({ id: String(r.contact._id), created: r.created, merged: r.merged, changed: r.changed, ignored: r.ignored, dispatched, warnings: r.warnings.map(({ code, message, pointer, kind }) => ({ code, message, pointer, kind })), contact: apiContact(r.contact) });
  };
  const upsertSchema = {
    tags: ['contacts'],
    summary: 'Create or update a contact (by externalId or email). A bad secondary field (phone, birthday, time zone, locale, tag, attribute) is left unset and listed in `warnings`; with ?strict=true it is a 400 naming the field.',
    querystring: upsertQuery,
    body: contactInput,
    response: { 200: upsertResponse, 201: upsertResponse, ...errors },
  };
  app.put('/v1/contacts', { schema: upsertSchema }, upsert);
  app.post('/v1/contacts', { schema: upsertSchema }, upsert);

  app.get<{ Params: { id: string } }>('/v1/contacts/:id', { schema: { tags: ['contacts'], summary: 'Get a contact', params: contactIdParams, response: { 200: getContactResponse, ...errors } } }, async (req) => {
    const doc = await contacts.getContact(req.params.id);
    if (!doc || doc.erasedAt) throw notFound();
    return { contact: apiContact(doc) };
  });

  app.post<{ Body: { segment?: string; expression?: string; limit: number; after?: string } }>(
    '/v1/contacts/search',
    { schema: { tags: ['contacts'], summary: 'Contacts in a segment (pushed down to MongoDB when possible)', body: searchBody, response: { 200: searchResponse, ...errors } } },
    async (req) => {
      const now = new Date();
      let filter: Record<string, unknown> | null;
      let expr: string;
      if (req.body.segment) {
        const seg = opts.segments?.[req.body.segment];
        if (!seg) throw new ContactError('E_UNKNOWN_SEGMENT', `no segment named "${req.body.segment}"`, '/segment', 404);
        filter = segmentFilter(seg, now);
        expr = seg.expr.source;
      } else {
        expr = req.body.expression!;
        let r;
        try {
          r = toMongoFilter(expr, { now });
        } catch (err) {
          throw new ContactError('E_EXPRESSION', err instanceof Error ? err.message : String(err), '/expression');
        }
        filter = 'filter' in r ? r.filter : null;
      }
      const base: Record<string, unknown> = { erasedAt: null };
      const after = req.body.after ? toObjectId(req.body.after) : null;
      if (after) base._id = { $gt: after };
      const out: ContactDoc[] = [];
      let stoppedAt: string | null = null;
      let lastScanned: unknown = null;
      if (filter) {
        out.push(...(await ContactModel.find({ $and: [base, filter] }).sort({ _id: 1 }).limit(req.body.limit).lean<ContactDoc[]>().exec()));
      } else {
        // Not expressible as a MongoDB filter: evaluate contact by contact over a scan bounded by the
        // cost budget (rules/cel-limits.ts); when the budget is spent, `next` continues after the last contact scanned.
        let compiled;
        try {
          compiled = compileExpression(expr);
        } catch (err) {
          throw new ContactError('E_EXPRESSION', err instanceof Error ? err.message : String(err), '/expression');
        }
        const cost = expressionCost(compiled.ast);
        if (cost > SEARCH_BUDGET.maxCostPerContact) {
          throw new ContactError('E_EXPRESSION_TOO_COSTLY', `the expression is too costly to evaluate contact by contact (estimated ${cost} steps per contact, limit ${SEARCH_BUDGET.maxCostPerContact}): avoid nested list macros`, '/expression');
        }
        const maxScan = Math.min(SEARCH_SCAN_LIMIT, Math.max(1, Math.floor(SEARCH_BUDGET.maxCostPerRequest / cost)));
        const deadline = Date.now() + SEARCH_BUDGET.maxMillisPerRequest;
        let scanned = 0;
        for await (const doc of ContactModel.find(base).sort({ _id: 1 }).lean<ContactDoc[]>().cursor({ batchSize: 500 }) as AsyncIterable<ContactDoc>) {
          if (out.length >= req.body.limit) break;
          if (scanned >= maxScan || Date.now() > deadline) {
            stoppedAt = String(lastScanned);
            break;
          }
          scanned++;
          lastScanned = doc._id;
          if (evaluateBool(compiled, { contact: toContactView(doc), now })) out.push(doc);
        }
      }
      const next = out.length === req.body.limit ? String(out[out.length - 1]._id) : stoppedAt;
      return { pushedDown: filter !== null, contacts: out.map(apiContact), next };
    },
  );

  const tagRoute = (add: boolean) => async (req: FastifyRequest<{ Params: { id: string }; Body: { tags: string[] } }>) => {
    const r = await contacts.applyContactUpdate(req.params.id, add ? { addTags: req.body.tags } : { removeTags: req.body.tags }, { source: 'api' });
    if (!r.contact) throw notFound();
    return { changed: r.changed, tags: r.contact.tags };
  };
  app.post('/v1/contacts/:id/tags', { schema: { tags: ['contacts'], summary: 'Add tags', params: contactIdParams, body: tagsBody, response: { 200: tagsResponse, ...errors } } }, tagRoute(true));
  app.delete('/v1/contacts/:id/tags', { schema: { tags: ['contacts'], summary: 'Remove tags', params: contactIdParams, body: tagsBody, response: { 200: tagsResponse, ...errors } } }, tagRoute(false));

  app.get<{ Params: { id: string } }>('/v1/contacts/:id/export', { schema: { tags: ['contacts'], summary: "Export a contact's data (GDPR/PIPL access)", params: contactIdParams, response: { 200: exportResponse, ...errors } } }, async (req) => {
    const data = await contacts.exportContact(req.params.id, 'api');
    if (!data) throw notFound();
    return data;
  });

  app.delete<{ Params: { id: string } }>('/v1/contacts/:id', { schema: { tags: ['contacts'], summary: 'Erase a contact (keeps only a hashed suppression entry and the audit record)', params: contactIdParams, response: { 200: eraseResponse, ...errors } } }, async (req) => {
    const r = await contacts.eraseContact(req.params.id, 'api');
    if (!r) throw notFound();
    return r;
  });

  type EventBody = { eventId?: string; contactId: string; name: string; at?: string; data?: Record<string, unknown> };
  // Stored first, dispatched second, marked third (engine/ingest.ts); a failed dispatch stays in the outbox.
  const record = async (e: EventBody) => {
    const r = await ingest({ ...e, at: e.at ? new Date(e.at) : undefined });
    return { eventId: r.eventId, duplicate: r.duplicate, dispatched: r.dispatched };
  };
  /** Every contact of the batch must exist and be live before anything is written. */
  const checkContacts = async (events: EventBody[], pointer: (i: number) => string) => {
    const ids = [...new Set(events.map((e) => e.contactId.toLowerCase()))];
    const live = new Set((await ContactModel.find({ _id: { $in: ids.map((i) => toObjectId(i)!) }, erasedAt: null }, { _id: 1 }).lean().exec()).map((d) => String(d._id)));
    const bad = events.findIndex((e) => !live.has(e.contactId.toLowerCase()));
    if (bad >= 0) throw new ContactError('E_NOT_FOUND', 'no (live) contact with this id', pointer(bad), 404);
  };
  app.post<{ Body: EventBody }>('/v1/events', { schema: { tags: ['events'], summary: 'Record an event (idempotent by eventId)', body: eventInput, response: { 200: eventResult, 202: eventResult, ...errors } } }, async (req, reply) => {
    // One event: the ingest's own contact read refuses a missing or erased contact before anything is
    // stored (one database command fewer per event than checking first); erased answers 404 like a batch.
    const r = await record(req.body).catch((err: unknown) => {
      if (err instanceof ContactError && err.code === 'E_ERASED') throw new ContactError('E_NOT_FOUND', 'no (live) contact with this id', '/contactId', 404);
      throw err;
    });
    // 200: seen before and with the engine; 202: stored, dispatched now or (dispatched: false) from the outbox.
    return reply.code(r.duplicate && r.dispatched ? 200 : 202).send(r);
  });
  app.post<{ Body: { events: EventBody[] } }>('/v1/events/batch', { schema: { tags: ['events'], summary: 'Record up to 500 events; all are validated before any is stored', body: eventBatch, response: { 202: eventBatchResponse, ...errors } } }, async (req, reply) => {
    await checkContacts(req.body.events, (i) => `/events/${i}/contactId`);
    const results = [];
    for (const e of req.body.events) results.push(await record(e));
    return reply.code(202).send({ results });
  });

};

/**
 * Route plugins of the API. Each is registered inside the authenticated context below, so a route
 * added here (in its own file under server/api/) is behind the API key without doing anything else.
 */
export const API_ROUTES: readonly FastifyPluginAsync<ApiOptions>[] = [contactAndEventRoutes, contactsRoutes, suppressionsRoutes, journeysRoutes, importsRoutes, webhooksRoutes, reportsRoutes, tasksRoutes];

/**
 * The API: one encapsulated context whose `onRequest` hook checks the key for every route registered
 * in it. Authentication is decided by which route matched (after the router decoded the path), never
 * by the text of the URL, so `/%761/...` and friends cannot slip past it. Only the OpenAPI document
 * is outside that context.
 */
export const apiPlugin: FastifyPluginAsync<ApiOptions> = async (app: FastifyInstance, opts: ApiOptions) => {
  const ajv = new Ajv({ allErrors: false, coerceTypes: false, removeAdditional: false, useDefaults: true, strict: false });
  addFormats(ajv);
  app.setValidatorCompiler(({ schema }) => ajv.compile(schema));
  app.setErrorHandler(errorHandler);
  useStrictJson(app);
  // Responses are plain JSON.stringify, not a schema-driven serializer that would drop or coerce fields
  // the schema does not describe: the contract test then sees (and checks) exactly what the handler sent.
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Sojourn API', version: '1.0.0', description: 'Contacts and events. Authenticate with `Authorization: Bearer <key>` or `X-API-Key`.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' } } },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
  });
  app.get('/v1/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await registerDocsPage(app);

  await app.register(async (authenticated) => {
    authenticated.addHook('onRequest', requireApiKey(opts.config.apiKey));
    // Before the routes: its hooks apply to every POST of this context (skip-override).
    await authenticated.register(idempotencyPlugin, {});
    for (const routes of API_ROUTES) await authenticated.register(routes, opts);
  });
};

export default apiPlugin;

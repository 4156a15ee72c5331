/**
 * Contacts for integrators: list with a cursor (`GET /v1/contacts`), partial update by JSON Merge
 * Patch (`PATCH /v1/contacts/{id}`) and consent changes with their evidence
 * (`POST /v1/contacts/{id}/consent`). Registered inside the API's authenticated context.
 */
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import { createContacts, ContactError } from '../../data/contacts';
import { listContacts } from '../../data/contact-list';
import { patchContact, type ContactPatch } from '../../data/contact-patch';
import type { Channel } from '../../data/contact-model';
import { apiContact, type ApiOptions } from './api-options';
import { useApiValidation } from './validation';
import { errorResponse, contactIdParams } from './schemas';
import { consentBody, consentResponse, contactPage, contactPatch, contactPatchResponse, CONTACT_FIELDS_SELECTABLE, listContactsQuery } from './resource-schemas';

const errors = { 400: errorResponse, 401: errorResponse, 404: errorResponse, 409: errorResponse };

interface ListQueryString { limit: number; cursor?: string; segment?: string; tag?: string; updatedSince?: string; fields?: string }

/** Keeps `id` and the selected fields of the API's contact object. */
function select(contact: Record<string, unknown>, fields: string[] | null): Record<string, unknown> {
  if (!fields) return contact;
  return Object.fromEntries([['id', contact.id], ...fields.map((f) => [f, contact[f]])]);
}

export const contactsRoutes: FastifyPluginAsync<ApiOptions> = async (app: FastifyInstance, opts: ApiOptions) => {
  useApiValidation(app);
  const contacts = opts.contacts ?? createContacts({ secret: opts.config.secret, phoneKey: opts.config.phoneKey });
  const notFound = () => new ContactError('E_NOT_FOUND', 'no contact with this id', '/params/id', 404);

  // JSON Merge Patch has its own media type; its body is JSON.
  if (!app.hasContentTypeParser('application/merge-patch+json')) {
    app.addContentTypeParser('application/merge-patch+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  }

  app.get<{ Querystring: ListQueryString }>(
    '/v1/contacts',
    {
      schema: {
        tags: ['contacts'],
        summary: 'List contacts page by page (stable under concurrent inserts), filtered by segment, tag or update time',
        querystring: listContactsQuery,
        response: { 200: contactPage, ...errors },
      },
    },
    async (req) => {
      const q = req.query;
      let fields: string[] | null = null;
      if (q.fields) {
        fields = [...new Set(q.fields.split(','))];
        const bad = fields.find((f) => !CONTACT_FIELDS_SELECTABLE.includes(f));
        if (bad) throw new ContactError('E_FIELD', `unknown field "${bad}" (one of ${CONTACT_FIELDS_SELECTABLE.join(', ')})`, '/query/fields');
      }
      const segment = q.segment ? opts.segments?.[q.segment] : undefined;
      if (q.segment && !segment) throw new ContactError('E_UNKNOWN_SEGMENT', `no segment named "${q.segment}"`, '/query/segment', 404);
      const page = await listContacts({ limit: q.limit, cursor: q.cursor, segment, tag: q.tag, updatedSince: q.updatedSince ? new Date(q.updatedSince) : undefined });
      return { contacts: page.contacts.map((d) => select(apiContact(d) as unknown as Record<string, unknown>, fields)), next: page.next, pushedDown: page.pushedDown };
    },
  );

  app.patch<{ Params: { id: string }; Body: ContactPatch }>(
    '/v1/contacts/:id',
    {
      schema: {
        tags: ['contacts'],
        summary: 'Change some fields of a contact (JSON Merge Patch; same checks and field warnings as an import)',
        params: contactIdParams,
        body: contactPatch,
        response: { 200: contactPatchResponse, ...errors },
      },
    },
    async (req) => {
      const r = await patchContact(req.params.id, req.body);
      if (!r.found) throw notFound();
      let contact = r.contact;
      // A changed contact is reclassified at once (a key read and write), as after an order event.
      if (r.changed && opts.classifyRuleSets?.length) {
        const c = await contacts.classifyContact(String(contact._id), opts.classifyRuleSets);
        if (c?.changed) contact = (await contacts.getContact(String(contact._id))) ?? contact;
      }
      return { id: String(contact._id), changed: r.changed, warnings: r.warnings, contact: apiContact(contact) };
    },
  );

  app.post<{ Params: { id: string }; Body: { channel: Channel; status: 'subscribed' | 'unsubscribed' | 'pending'; evidence: { wording: string; ip?: string | null; userAgent?: string | null; source?: string } } }>(
    '/v1/contacts/:id/consent',
    {
      schema: {
        tags: ['contacts'],
        summary: 'Record a consent change with its evidence (an unsubscribe is never lifted here)',
        params: contactIdParams,
        body: consentBody,
        response: { 200: consentResponse, ...errors },
      },
    },
    async (req) => {
      const { channel, status, evidence } = req.body;
      const r = await contacts.applyContactUpdate(req.params.id, { consent: { channel, status } }, {
        source: evidence.source ? `api:${evidence.source}` : 'api',
        context: { wording: evidence.wording, ip: evidence.ip ?? null, userAgent: evidence.userAgent ?? null },
      });
      if (!r.contact) throw notFound();
      const view = apiContact(r.contact);
      return { id: view.id, changed: r.changed, consent: view.consent, recordId: r.contact.consent[channel].recordId ?? null, ignored: r.ignored };
    },
  );
};

/**
 * The public endpoints behind every email link, as one fastify plugin, separate from the API-key
 * protected /v1 API:
 *
 *   GET  /u/<token>  unsubscribe confirmation page (changes nothing)   POST /u/<token>  one-click unsubscribe (RFC 8058)
 *   GET  /p/<token>  preference centre (topics, pause)                 POST /p/<token>  save preferences
 *   GET  /c/<token>  double opt-in page with a button                  POST /c/<token>  confirm (one-time)
 *   GET  /v/<token>  address verification page with a button           POST /v/<token>  verify (one-time)
 *   GET  /s/<token>  survey form, the link's score preselected       POST /s/<token>  store the answer (score, comment)
 *   GET  /o/<token>.gif  open pixel (no-store; machine opens flagged)
 *   GET  /r/<token>  click redirect to the signed target only (bot clicks flagged)
 *   POST /bounces   DSN / ARF report as message/rfc822 (API key: x-api-key or Bearer)
 *
 * State changes go through `contacts` (the ContactsPort; defaults to the Contacts data layer, which
 * keeps consent records and the hashed suppression list); every tracked event goes to `onEvent`.
 */
import formbody from '@fastify/formbody';
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../../lib/config';
import { requireApiKey } from '../auth';
import { ingestReport, softBouncePolicy } from '../../mail/bounces';
import { dataLayerContactsPort, type ContactsPort } from '../../mail/contacts-port';
import type { EventSink } from '../../mail/events';
import { TokenSigner } from '../../mail/tokens';
import type { PublicContext } from './context';
import { OpenWindow } from './open-window';
import { registerConsentRoutes } from './consent-routes';
import { registerTrackingRoutes } from './tracking-routes';
import { registerSurveyRoutes } from './survey-routes';

export type { PublicEvent } from './context';

export interface PublicPluginOptions {
  config: Pick<Config, 'secret' | 'apiKey' | 'publicBaseUrl' | 'mailDomain'> & Partial<Pick<Config, 'softBounceLimit' | 'softBounceWindowDays'>>;
  /** The ingest (engine/ingest.ts): stores every event once and dispatches it to the runs. */
  onEvent?: EventSink;
  /** Consent, preference and email-status writes; defaults to the Contacts data layer (data/contacts.ts). */
  contacts?: ContactsPort;
  /** Preference-centre topics (templates declare theirs in front matter `topic:`). */
  topics?: string[];
  now?: () => Date;
}

async function defaultContactsPort(): Promise<ContactsPort> {
  const { applyContactUpdate, getContact, suppress } = await import('../../data/contacts');
  return dataLayerContactsPort({ applyContactUpdate, getContact, suppress });
}

export const publicPlugin: FastifyPluginAsync<PublicPluginOptions> = async (app, opts) => {
  await app.register(formbody);
  // RFC 8058 allows multipart/form-data for the one-click POST; keep it raw, the route looks for the field.
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => done(null, { raw: body }));
  app.addContentTypeParser(['message/rfc822', 'application/octet-stream'], { parseAs: 'buffer', bodyLimit: 2 * 1024 * 1024 }, (_req, body, done) => done(null, body));

  const ctx: PublicContext = {
    config: opts.config,
    signer: new TokenSigner(opts.config.secret),
    contacts: opts.contacts ?? (await defaultContactsPort()),
    now: opts.now ?? (() => new Date()),
    topics: opts.topics ?? ['news', 'offers'],
    opens: new OpenWindow(),
    emit: async (event) => {
      if (!opts.onEvent) return;
      try {
        await opts.onEvent(event);
      } catch (err) {
        // The ingest failed to store it (a dispatch failure never throws: it waits in the outbox). The state
        // change itself is stored and journeys re-check it before every step: log, do not fail the person's page.
        app.log.error({ err, contactId: event.contactId, name: event.name, eventId: event.eventId }, 'event not stored');
      }
    },
  };

  registerConsentRoutes(app, ctx);
  registerTrackingRoutes(app, ctx);
  registerSurveyRoutes(app, ctx);

  app.post('/bounces', { bodyLimit: 2 * 1024 * 1024, onRequest: requireApiKey(opts.config.apiKey) }, async (req, reply) => {
    const body = req.body;
    const raw = Buffer.isBuffer(body) ? body : typeof body === 'string' ? body : null;
    if (!raw || raw.length === 0) return reply.code(400).send({ error: 'expected a DSN or ARF message (Content-Type: message/rfc822)' });
    // A report whose event could not be stored fails the request (the reporter retries; the event id is deterministic).
    const result = await ingestReport(raw, { contacts: ctx.contacts, onEvent: opts.onEvent, mailDomain: opts.config.mailDomain, now: ctx.now, softBounces: opts.config.softBounceLimit && opts.config.softBounceWindowDays ? softBouncePolicy({ softBounceLimit: opts.config.softBounceLimit, softBounceWindowDays: opts.config.softBounceWindowDays }) : undefined });
    return reply.code(200).send(result);
  });
};

export default publicPlugin;

/**
 * How the parts meet in production and in the scenario harness: the engine and Delivery reach the
 * one contacts data layer (data/contacts.ts) through their adapters (activities/contact-store.ts,
 * mail/contacts-port.ts, activities/messaging.ts), and every event (API, public endpoints, bounces,
 * the demo, scenario tests) goes through one door, the ingest (engine/ingest.ts): stored once by
 * event id, dispatched to the runs by the dispatcher (worker/dispatch.ts), marked dispatched.
 */
import { withWebhookFanout } from '../engine/webhook-fanout';
import { createWebhooks } from '../data/webhooks';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { createMessagingActivities, dataLayerRecipientLoader } from '../activities/messaging';
import type { Config } from '../lib/config';
import type { DependencyHealth } from '../lib/dependency-health';
import { applyContactUpdate, getContact, suppress } from '../data/contacts';
import { recordSmtpBounce, softBouncePolicy } from '../mail/bounces';
import { dataLayerContactsPort } from '../mail/contacts-port';
import type { MailTransport } from '../mail/transport';
import type { EventSink } from '../mail/events';
import { createIngest, type Ingest, type IngestDeps } from '../engine/ingest';
import { createEventDispatcher } from './dispatch';

/** The ingest over the real dispatcher for this Temporal client and task queue. */
export function createEngineIngest(client: Client, taskQueue: string, opts: Omit<IngestDeps, 'dispatcher'> & { log?: Logger } = {}): Ingest {
  return createIngest({ ...opts, dispatcher: withWebhookFanout(createEventDispatcher({ client, taskQueue }), createWebhooks()) });
}

/** Delivery's send activity over the data layer's recipients. */
export function createSendActivities(config: Config, opts: { transport?: MailTransport; templatesDir?: string; now?: () => Date; afterSmtp?: (input: { templateId: string }) => void; onEvent?: EventSink; health?: DependencyHealth } = {}) {
  const contacts = dataLayerContactsPort({ applyContactUpdate, getContact, suppress });
  const { sendEmail } = createMessagingActivities({
    config, transport: opts.transport, templatesDir: opts.templatesDir, loadRecipient: dataLayerRecipientLoader(), now: opts.now, afterSmtp: opts.afterSmtp,
    retryWindowMs: config.sendRetryHours * 3_600_000, health: opts.health,
    onBounce: async (row, bounce) => void (await recordSmtpBounce(row, bounce, { contacts, onEvent: opts.onEvent, softBounces: softBouncePolicy(config) })),
  });
  return { sendEmail };
}

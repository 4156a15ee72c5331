/**
 * How the parts meet in production and in the scenario harness: the engine and Delivery reach the
 * one contacts data layer (data/contacts.ts) through their adapters (activities/contact-store.ts,
 * mail/contacts-port.ts, activities/messaging.ts), and every event (API, public endpoints, bounces,
 * scenario tests) goes through one sink: stored on the contact (idempotent by eventId, which also
 * updates engagement), then handed to the engine's dispatcher (start or signal runs).
 */
import { createMessagingActivities, dataLayerRecipientLoader } from '../activities/messaging';
import type { Config } from '../lib/config';
import { recordEvent } from '../data/contacts';
import type { MailTransport } from '../mail/transport';
import type { EventDispatcher } from './dispatch';

/** Any event about a contact: from the API, the public endpoints, bounce reports or a scenario test. */
export interface SojournEvent { contactId: string; name: string; at: Date | string; eventId: string; data?: Record<string, unknown> }
export type EventSink = (event: SojournEvent) => Promise<void>;

/** Stores the event on the contact, then lets the engine start or signal runs. */
export function createEventSink(dispatcher: EventDispatcher | null): EventSink {
  return async (event) => {
    const at = new Date(event.at);
    const { duplicate } = await recordEvent({ eventId: event.eventId, contactId: event.contactId, name: event.name, at, data: event.data });
    if (!duplicate && dispatcher) await dispatcher.dispatch({ ...event, at });
  };
}

/** Delivery's send activity over the data layer's recipients. */
export function createSendActivities(config: Config, opts: { transport?: MailTransport; templatesDir?: string } = {}) {
  const { sendEmail } = createMessagingActivities({ config, transport: opts.transport, templatesDir: opts.templatesDir, loadRecipient: dataLayerRecipientLoader() });
  return { sendEmail };
}

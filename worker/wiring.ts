/**
 * How the parts meet: the engine's narrow view of contacts over the one contacts data layer
 * (data/contacts.ts; Delivery's adapters live in mail/contacts-port.ts and activities/messaging.ts),
 * and every event (API, public endpoints, bounces,
 * scenario tests) goes through one sink: stored on the contact (idempotent by eventId, which also
 * updates engagement), then handed to the engine's dispatcher (start or signal runs).
 */
import type { Client } from '@temporalio/client';
import type { ContactStore } from '../activities/contact-store';
import { createMessagingActivities, dataLayerRecipientLoader } from '../activities/messaging';
import type { Config } from '../lib/config';
import { applyContactUpdate, getContactView, isSuppressed, recordEvent } from '../data/contacts';
import type { MailTransport } from '../mail/transport';
import { createEventDispatcher, type EventDispatcher } from './dispatch';

/** The engine's ContactStore over the data layer. */
export function dataLayerContactStore(): ContactStore {
  return {
    getContactView: (id) => getContactView(id),
    async applyContactUpdate(id, update) {
      await applyContactUpdate(id, update, { source: 'journey' });
    },
    isSuppressed: (id) => isSuppressed(id),
  };
}

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

/** The dispatcher over the data layer's contacts. */
export function createDispatcher(client: Client, taskQueue: string): EventDispatcher {
  return createEventDispatcher({ client, taskQueue, contacts: dataLayerContactStore() });
}

/** Delivery's send activity over the data layer's recipients. */
export function createSendActivities(config: Config, opts: { transport?: MailTransport; templatesDir?: string } = {}) {
  const { sendEmail } = createMessagingActivities({ config, transport: opts.transport, templatesDir: opts.templatesDir, loadRecipient: dataLayerRecipientLoader() });
  return { sendEmail };
}

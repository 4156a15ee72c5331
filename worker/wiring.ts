/**
 * How the parts meet: the engine's and Delivery's narrow views of contacts are implemented here over
 * the one contacts data layer (data/contacts.ts), and every event (API, public endpoints, bounces,
 * scenario tests) goes through one sink: stored on the contact (idempotent by eventId, which also
 * updates engagement), then handed to the engine's dispatcher (start or signal runs).
 */
import type { Client } from '@temporalio/client';
import type { ContactStore } from '../activities/contact-store';
import { createMessagingActivities, type Recipient } from '../activities/messaging';
import type { Config } from '../lib/config';
import { applyContactUpdate, getContact, getContactView, isSuppressed, recordEvent, suppress } from '../data/contacts';
import { ContactModel } from '../data/contact-model';
import { toContactView } from '../data/contact-view';
import type { ContactsPort } from '../mail/contacts-port';
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

/** Delivery's recipient: the address (for the To header only) and the personal view fields. */
export async function loadRecipient(contactId: string): Promise<Recipient | null> {
  const doc = await getContact(contactId);
  if (!doc || doc.erasedAt) return null;
  return {
    ...toContactView(doc),
    id: String(doc._id),
    email: doc.email ?? null,
    emailStatus: doc.emailStatus,
    consent: { email: doc.consent?.email?.status ?? null },
  };
}

/** Delivery's ContactsPort over the data layer. Engagement is counted when the event is stored (see eventSink). */
export function dataLayerContactsPort(): ContactsPort {
  return {
    async setEmailConsent(contactId, status, ctx) {
      await applyContactUpdate(contactId, { consent: { channel: 'email', status } }, {
        source: ctx.source,
        reconsent: status === 'subscribed',
        context: { wording: ctx.wording ?? null, ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null },
      });
    },
    async markEmailVerified(contactId, ctx) {
      await applyContactUpdate(contactId, { emailStatus: 'verified' }, { source: ctx.source });
    },
    async getPreferences(contactId) {
      const doc = await getContact(contactId);
      if (!doc || doc.erasedAt) return null;
      return { topics: doc.preferences?.topics ?? {}, pausedUntil: doc.preferences?.pausedUntil ?? null };
    },
    async setPreferences(contactId, prefs) {
      const doc = await getContact(contactId);
      if (!doc || doc.erasedAt) return;
      await ContactModel.updateOne({ _id: doc._id }, { $set: { preferences: prefs, updatedAt: new Date() } }).exec();
    },
    async setEmailStatus(contactId, status, ctx) {
      await applyContactUpdate(contactId, { emailStatus: status }, { source: ctx.source });
    },
    async suppress(contactId, reason) {
      const doc = await getContact(contactId);
      if (doc?.email) await suppress(doc.email, reason);
    },
    async recordEngagement() {
      // Counted by recordEvent when the email.opened / email.clicked event is stored (once per eventId).
    },
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
  const { sendEmail } = createMessagingActivities({ config, transport: opts.transport, templatesDir: opts.templatesDir, loadRecipient });
  return { sendEmail };
}

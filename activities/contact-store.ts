/**
 * What the engine's activities need from the contacts data layer, as one narrow interface, and its
 * implementation over the Contacts data layer (data/contacts.ts).
 */
import { applyContactUpdate, getContactView, isSuppressed } from '../data/contacts';
import type { ContactView } from '../rules/contact-schema';
import type { ContactUpdate } from './types';

export interface ContactStore {
  getContactView(contactId: string): Promise<ContactView | null>;
  applyContactUpdate(contactId: string, update: ContactUpdate): Promise<void>;
  isSuppressed(contactId: string): Promise<boolean>;
}

/** The store over the Contacts data layer (data/contacts.ts), used in production and in tests. */
export function dataLayerContactStore(): ContactStore {
  return {
    getContactView: (id) => getContactView(id),
    async applyContactUpdate(id, update) {
      // The run reads the contact again when it next needs it; the updated document is not read back here.
      await applyContactUpdate(id, update, { source: 'journey', readBack: false });
    },
    // Erasure, hard bounces and complaints suppress every email; an unsubscribe alone is a consent matter,
    // which the gate checks for marketing sends only (transactional mail such as verification still goes).
    isSuppressed: (id) => isSuppressed(id, { marketing: false }),
  };
}

/** Contact reads and writes for journey runs. Built from a ContactStore so tests and production share it. */
import type { ContactStore } from './contact-store';
import type { ContactUpdate, ContactView } from './types';

export interface ContactActivities {
  /** The contact as expressions see it (no email or phone), or null when it is gone (erased). */
  loadContact(input: { contactId: string }): Promise<ContactView | null>;
  /** Applies an update or classification step to the contact. Idempotent: sets, tag sets, statuses. */
  updateContact(input: {
    contactId: string; journeyId: string; stepId: string; update: ContactUpdate;
    classification?: { field: string; value: string; reason: string };
  }): Promise<void>;
}

export function createContactActivities(deps: { contacts: ContactStore }): ContactActivities {
  return {
    async loadContact({ contactId }) {
      return deps.contacts.getContactView(contactId);
    },
    async updateContact({ contactId, update }) {
      await deps.contacts.applyContactUpdate(contactId, update);
    },
  };
}

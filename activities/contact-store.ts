/**
 * What the engine's activities need from the contacts data layer, as one narrow interface, and its
 * MongoDB implementation over the `contacts` collection (layout from rules/contact-schema.ts).
 */
import mongoose from 'mongoose';
import { CONTACT_FIELDS, type ContactView } from '../rules/contact-schema';
import type { ContactUpdate } from './types';

export interface ContactStore {
  getContactView(contactId: string): Promise<ContactView | null>;
  applyContactUpdate(contactId: string, update: ContactUpdate): Promise<void>;
  isSuppressed(contactId: string): Promise<boolean>;
}

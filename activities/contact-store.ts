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

function get(doc: Record<string, unknown>, path: string): unknown {
  let v: unknown = doc;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function idFilter(contactId: string): Record<string, unknown> {
  return mongoose.isValidObjectId(contactId) && /^[0-9a-f]{24}$/i.test(contactId)
    ? { _id: { $in: [contactId, new mongoose.Types.ObjectId(contactId)] } }
    : { _id: contactId };
}

/** Builds the CEL view from a stored document with the layout of CONTACT_FIELDS (no email or phone). */
export function viewFromDocument(doc: Record<string, unknown>): ContactView {
  const view: Record<string, unknown> = {};
  for (const f of CONTACT_FIELDS) {
    const parts = f.path.split('.');
    let target = view;
    for (const p of parts.slice(0, -1)) target = (target[p] ??= {}) as Record<string, unknown>;
    let v = f.mongoPath ? get(doc, f.mongoPath) : undefined;
    if (f.path === 'id') v = String(doc._id);
    if (v === undefined) {
      v = f.nullable ? null
        : f.type === 'list<string>' ? [] : f.type === 'map<string,dyn>' ? {} : f.type === 'bool' ? false
          : f.type === 'int' || f.type === 'double' ? 0 : f.type === 'string' ? (f.path.startsWith('consent.') ? 'unknown' : '') : null;
    }
    target[parts[parts.length - 1]] = v;
  }
  return view as unknown as ContactView;
}

const MONGO_PATH = new Map(CONTACT_FIELDS.map((f) => [f.path, f.mongoPath]));

/**
 * The store over the `contacts` collection directly, with the schema's layout. The Contacts data layer
 * (data/contacts.ts) is the owner of that collection; `dataLayerContactStore` below prefers it.
 */
export function collectionContactStore(): ContactStore {
  const coll = () => mongoose.connection.collection('contacts');
  return {
    async getContactView(contactId) {
      const doc = await coll().findOne(idFilter(contactId));
      return doc ? viewFromDocument(doc as Record<string, unknown>) : null;
    },
    async applyContactUpdate(contactId, u) {
      const $set: Record<string, unknown> = { updatedAt: new Date() };
      for (const [path, value] of Object.entries(u.set ?? {})) $set[MONGO_PATH.get(path) ?? (path.startsWith('attributes.') ? path : `attributes.${path}`)] = value;
      if (u.consent) $set[`consent.${u.consent.channel}.status`] = u.consent.status;
      if (u.emailStatus) $set.emailStatus = u.emailStatus;
      await coll().updateOne(idFilter(contactId), { $set });
      if (u.addTags?.length) await coll().updateOne(idFilter(contactId), { $addToSet: { tags: { $each: u.addTags } } });
      if (u.removeTags?.length) await coll().updateOne(idFilter(contactId), { $pullAll: { tags: u.removeTags } } as Record<string, unknown>);
    },
    async isSuppressed(contactId) {
      const doc = await coll().findOne(idFilter(contactId), { projection: { suppressed: 1 } });
      return Boolean(doc && (doc as Record<string, unknown>).suppressed);
    },
  };
}

/**
 * The store over the Contacts data layer (data/contacts.ts): the production default. Its
 * `isSuppressed` also counts a marketing unsubscribe; the gate handles consent itself (transactional
 * mail ignores it), so here an unsubscribe alone does not suppress.
 */
export function dataLayerContactStore(): ContactStore {
  // Required lazily: data/contacts reads the configuration (secrets) on first use.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const contacts = require('../data/contacts') as typeof import('../data/contacts');
  return {
    getContactView: (id) => contacts.getContactView(id),
    async applyContactUpdate(id, update) {
      await contacts.applyContactUpdate(id, update as import('../data/contacts').ContactUpdate, { source: 'journey' });
    },
    async isSuppressed(id) {
      const doc = await contacts.getContact(id);
      if (!doc) return true;
      return contacts.isSuppressed({ ...doc, consent: { ...doc.consent, email: { ...doc.consent.email, status: 'subscribed' } } });
    },
  };
}

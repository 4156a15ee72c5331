/**
 * The person's rights over their data: access (export, phones decrypted), operational phone reveals,
 * erasure. Every read of personal data is audited. Part of the contacts repository (data/contacts.ts
 * composes it).
 */
import { revealPhone, type PhoneKeys } from '../lib/phone';
import { ContactModel, type ContactDoc } from './contact-model';
import { ConsentRecordModel, type ConsentRecordDoc } from './consent-model';
import { ContactEventModel, type ContactEventDoc } from './contact-event-model';
import { dropContactFromOutbox } from './event-outbox';
import { dropContactKeys } from './contact-keys';
import { dropOpenHistogram } from './open-hours';
import type { SuppressionReason } from './suppression-model';

export interface ContactExport {
  contact: Record<string, unknown>;
  phones: { e164: string; type: string; country: string | null; source: string | null; addedAt: Date }[];
  consentRecords: ConsentRecordDoc[];
  events: ContactEventDoc[];
  suppressed: boolean;
  exportedAt: Date;
}

export type AuditAction = 'contact.export' | 'contact.erase' | 'phone.decrypt' | 'contact.suppress';

/** What the privacy part needs from the rest of the repository. */
export interface ContactPrivacyDeps {
  keys: PhoneKeys;
  now: () => Date;
  getContact: (id: string) => Promise<ContactDoc | null>;
  audit: (action: AuditAction, contactId: string | null, actor: string, detail?: Record<string, unknown>) => Promise<void>;
  isSuppressed: (target: ContactDoc) => Promise<boolean>;
  suppressKey: (emailKey: string, reason: SuppressionReason) => Promise<void>;
}

export function createContactPrivacy({ keys, now, getContact, audit, isSuppressed, suppressKey }: ContactPrivacyDeps) {
  /** The person's data (GDPR/PIPL access), phones decrypted; writes audit records. */
  async function exportContact(id: string, actor = 'api'): Promise<ContactExport | null> {
    const doc = await getContact(id);
    if (!doc) return null;
    const contactId = String(doc._id);
    const phones = (doc.phones ?? []).map((p) => ({ e164: revealPhone(keys, p, contactId), type: p.type, country: p.country, source: p.source, addedAt: p.addedAt }));
    if (phones.length) await audit('phone.decrypt', contactId, actor, { count: phones.length, purpose: 'export' });
    await audit('contact.export', contactId, actor);
    const { phones: _p, phoneIndex: _i, engagement, ...rest } = doc;
    const { appliedEventIds: _a, ...eng } = engagement ?? ({} as ContactDoc['engagement']);
    return {
      contact: { ...rest, _id: contactId, engagement: eng },
      phones,
      consentRecords: await ConsentRecordModel.find({ contactId }, { _id: 0 }).sort({ at: 1 }).lean<ConsentRecordDoc[]>().exec(),
      events: await ContactEventModel.find({ contactId }, { _id: 0 }).sort({ at: 1 }).lean<ContactEventDoc[]>().exec(),
      suppressed: await isSuppressed(doc),
      exportedAt: now(),
    };
  }

  /** Decrypts a contact's phone numbers for an operational use; every call is audited. */
  async function revealPhones(id: string, actor: string, purpose: string): Promise<string[]> {
    const doc = await getContact(id);
    if (!doc || !doc.phones?.length) return [];
    await audit('phone.decrypt', String(doc._id), actor, { count: doc.phones.length, purpose });
    return doc.phones.map((p) => revealPhone(keys, p, String(doc._id)));
  }

  /**
   * Erases a contact: the address goes on the suppression list (as a keyed hash), an audit record is
   * written, consent records, events and the open histogram are deleted, and the contact becomes a tombstone without any
   * personal data (kept so running journeys see it is gone). Each step is idempotent; re-running after
   * a crash completes the erasure.
   */
  async function eraseContact(id: string, actor = 'api'): Promise<{ erased: boolean; alreadyErased: boolean } | null> {
    const doc = await getContact(id);
    if (!doc) return null;
    const contactId = String(doc._id);
    const alreadyErased = Boolean(doc.erasedAt);
    if (doc.emailKey) await suppressKey(doc.emailKey, 'erased');
    if (!alreadyErased) await audit('contact.erase', contactId, actor);
    // The pointers carry the address in their `_id`: gone before the contact's fields are.
    await dropContactKeys(doc._id, doc);
    const at = now();
    const gone = { status: 'unsubscribed', recordId: null, at };
    await ContactModel.collection.updateOne(
      { _id: doc._id },
      {
        $unset: { email: '', emailKey: '', aliasKey: '', emailDomain: '', externalId: '', firstName: '', lastName: '', birthday: '', birthdayMonthDay: '', locale: '', timezone: '', preferences: '' },
        $set: {
          phones: [], phoneIndex: [], tags: [], attributes: {}, classification: {},
          emailFlags: { role: false, disposable: false, alias: false, idn: false },
          consent: { email: gone, sms: gone, phone: gone },
          doubleOptIn: { state: 'none', requestedAt: null, confirmedAt: null },
          'engagement.appliedEventIds': [],
          erasedAt: doc.erasedAt ?? at, updatedAt: at,
        },
        $inc: { rev: 1 },
      },
    );
    await ConsentRecordModel.deleteMany({ contactId });
    await ContactEventModel.deleteMany({ contactId });
    await dropOpenHistogram(contactId);
    await dropContactFromOutbox(contactId);
    return { erased: true, alreadyErased };
  }

  return { exportContact, revealPhones, eraseContact };
}

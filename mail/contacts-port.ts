/**
 * The narrow view Delivery has of the contacts data layer: the state changes its endpoints and the
 * bounce handler make. Two implementations:
 * - `dataLayerContactsPort(contacts)`: over the Contacts data layer (data/contacts.ts), which owns the
 *   collection, consent records and the hashed suppression list. Production uses this.
 * - `collectionContactsPort()`: direct writes to the `contacts` collection (layout of
 *   rules/contact-schema.ts), for Delivery's own tests.
 */
import mongoose from 'mongoose';
import type { Contacts } from '../data/contacts';

export interface ChangeContext {
  /** Where the change came from: one_click, unsubscribe_page, preference_centre, double_opt_in, verification, bounce, complaint. */
  source: string;
  at: Date;
  ip?: string | null;
  userAgent?: string | null;
  /** Version of the wording the person saw (consent records keep it). */
  wording?: string;
  /** Send ledger key of the email the link came from, when known. */
  sendKey?: string | null;
}

export interface EmailPreferences {
  /** Topic -> subscribed. Topics absent from the map are subscribed. */
  topics: Record<string, boolean>;
  /** Marketing paused until this instant, or null. */
  pausedUntil: Date | null;
}

export type EmailStatusChange = 'bounced' | 'complained' | 'invalid';

export interface ContactsPort {
  setEmailConsent(contactId: string, status: 'subscribed' | 'unsubscribed', ctx: ChangeContext): Promise<void>;
  markEmailVerified(contactId: string, ctx: ChangeContext): Promise<void>;
  getPreferences(contactId: string): Promise<EmailPreferences | null>;
  setPreferences(contactId: string, prefs: EmailPreferences, ctx: ChangeContext): Promise<void>;
  setEmailStatus(contactId: string, status: EmailStatusChange, ctx: ChangeContext & { detail?: string }): Promise<void>;
  /** Adds the contact's address to the suppression list (the data layer keys it by a hash of the address). */
  suppress(contactId: string, reason: 'hard_bounce' | 'complaint', ctx: ChangeContext): Promise<void>;
  /**
   * Counts a human open or click in the engagement fields. Optional: with the Contacts data layer,
   * engagement is applied (once per eventId) when the event itself is recorded, so the adapter omits it.
   */
  recordEngagement?(contactId: string, kind: 'open' | 'click', at: Date): Promise<void>;
  /** Stores a survey answer on the contact (`surveys.<surveyId>`); false when the contact is gone (erased). */
  recordSurveyAnswer(contactId: string, answer: SurveyAnswer, ctx: ChangeContext): Promise<boolean>;
}

/** One answer to a survey, as the survey page stores it. */
export interface SurveyAnswer { surveyId: string; score: number; comment: string | null }

function idFilter(contactId: string): Record<string, unknown> {
  return /^[0-9a-f]{24}$/i.test(contactId) ? { _id: { $in: [contactId, new mongoose.Types.ObjectId(contactId)] } } : { _id: contactId };
}

/** Direct implementation over the `contacts` collection of the default mongoose connection. */
export function collectionContactsPort(connection: mongoose.Connection = mongoose.connection): ContactsPort {
  const coll = () => connection.collection('contacts');
  const set = async (contactId: string, $set: Record<string, unknown>, extra: Record<string, unknown> = {}) => {
    await coll().updateOne(idFilter(contactId), { $set: { ...$set, updatedAt: new Date() }, ...extra });
  };
  return {
    async setEmailConsent(contactId, status, ctx) {
      await set(contactId, { 'consent.email.status': status, 'consent.email.updatedAt': ctx.at, 'consent.email.source': ctx.source });
    },
    async markEmailVerified(contactId, ctx) {
      await set(contactId, { emailStatus: 'verified', emailVerifiedAt: ctx.at });
    },
    async getPreferences(contactId) {
      const doc = (await coll().findOne(idFilter(contactId), { projection: { preferences: 1 } })) as { preferences?: { topics?: Record<string, boolean>; pausedUntil?: Date | null } } | null;
      if (!doc) return null;
      return { topics: doc.preferences?.topics ?? {}, pausedUntil: doc.preferences?.pausedUntil ?? null };
    },
    async setPreferences(contactId, prefs) {
      await set(contactId, { 'preferences.topics': prefs.topics, 'preferences.pausedUntil': prefs.pausedUntil });
    },
    async setEmailStatus(contactId, status, ctx) {
      await set(contactId, { emailStatus: status, emailStatusReason: ctx.detail ?? ctx.source, emailStatusAt: ctx.at });
    },
    async suppress(contactId, reason, ctx) {
      await set(contactId, { suppressed: true, suppressedReason: reason, suppressedAt: ctx.at });
    },
    async recordSurveyAnswer(contactId, a, ctx) {
      const res = await coll().updateOne(idFilter(contactId), { $set: { [`surveys.${a.surveyId}`]: { score: a.score, comment: a.comment, at: ctx.at }, updatedAt: new Date() } });
      return res.matchedCount === 1;
    },
    async recordEngagement(contactId, kind, at) {
      const field = kind === 'open' ? 'opens' : 'clicks';
      const last = kind === 'open' ? 'lastOpenAt' : 'lastClickAt';
      await coll().updateOne(idFilter(contactId), { $inc: { [`engagement.${field}`]: 1 }, $set: { [`engagement.${last}`]: at, lastActivityAt: at } });
    },
  };
}

/**
 * The port over the Contacts data layer. Preferences live in contact attributes (`emailTopics`,
 * `emailPausedUntil`), so segments and the gate can read them in CEL.
 */
export function dataLayerContactsPort(contacts: Pick<Contacts, 'applyContactUpdate' | 'getContact' | 'suppress'>): ContactsPort {
  const context = (ctx: ChangeContext) => ({ wording: ctx.wording ?? null, ip: ctx.ip ?? null, userAgent: ctx.userAgent ?? null });
  return {
    async setEmailConsent(contactId, status, ctx) {
      // A confirmed double opt-in is the one thing that may lift an earlier unsubscribe.
      await contacts.applyContactUpdate(contactId, { consent: { channel: 'email', status } }, { source: ctx.source, reconsent: status === 'subscribed' && ctx.source === 'double_opt_in', context: context(ctx) });
    },
    async markEmailVerified(contactId, ctx) {
      await contacts.applyContactUpdate(contactId, { emailStatus: 'verified' }, { source: ctx.source, context: context(ctx) });
    },
    async getPreferences(contactId) {
      const doc = await contacts.getContact(contactId);
      if (!doc || doc.erasedAt) return null;
      const topics = (doc.attributes?.emailTopics ?? {}) as Record<string, boolean>;
      const paused = doc.attributes?.emailPausedUntil;
      return { topics, pausedUntil: typeof paused === 'string' || paused instanceof Date ? new Date(paused) : null };
    },
    async setPreferences(contactId, prefs, ctx) {
      await contacts.applyContactUpdate(contactId, { set: { 'attributes.emailTopics': prefs.topics, 'attributes.emailPausedUntil': prefs.pausedUntil?.toISOString() ?? null } }, { source: ctx.source, context: context(ctx) });
    },
    async setEmailStatus(contactId, status, ctx) {
      await contacts.applyContactUpdate(contactId, { emailStatus: status }, { source: ctx.source });
    },
    async recordSurveyAnswer(contactId, a, ctx) {
      const r = await contacts.applyContactUpdate(contactId, { surveyAnswer: { ...a, at: ctx.at } }, { source: ctx.source, context: context(ctx) });
      return r.contact !== null;
    },
    async suppress(contactId, reason) {
      const doc = await contacts.getContact(contactId);
      if (doc?.email) await contacts.suppress(doc.email, reason);
    },
  };
}

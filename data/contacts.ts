/**
 * The contacts repository: the one module other parts use to read and write contacts, consent,
 * suppression, events and the audit log. Built by `createContacts({ secret, phoneKey })` from its parts:
 * upserts, updates and suppression here, events (data/contact-events.ts), the person's rights
 * (data/contact-privacy.ts) and classification (data/contact-classification.ts). The module-level
 * functions below use a default instance configured from the environment.
 *
 * No multi-document transactions (FerretDB has none). Every write is safe to retry:
 * - contacts are created with insertOne under the unique emailKey/externalId indexes (a retry or a
 *   concurrent create hits E11000 and falls back to the update path);
 * - updates compare-and-set on `rev` (a lost race re-reads and re-plans; nothing is overwritten);
 * - consent records are inserted before the contact points at them, with deterministic ids;
 * - events insert keyed by `_id` = event id; counters are applied once per event id (guarded by the
 *   contact's bounded `engagement.appliedEventIds`);
 * - suppression entries are upserts on their unique hash key.
 * See docs/data-model.md for the per-write table.
 */
import { Types } from 'mongoose';
import { keyedHash } from '../lib/crypto';
import { parseEmail } from '../lib/email-address';
import type { PhoneKeys } from '../lib/phone';
import { loadConfig } from '../lib/config';
import { CONTACT_FIELDS, type ContactView } from '../rules/contact-schema';
import type { EmailStatus } from '../rules/plan';
import { ContactModel, CLASSIFICATION_FIELDS, EMAIL_STATUSES, type Channel, type ContactDoc, type ConsentStatus } from './contact-model';
import { ConsentRecordModel } from './consent-model';
import { addSuppression, findBlock, isHashSuppressed, liftUnsubscribe, type SuppressionReason } from './suppression-model';
import { AuditModel } from './audit-model';
import { toContactView } from './contact-view';
import { prepareContact, normaliseTag, type ContactInput, type FieldWarning, type InputError, type PrepareOptions, type PreparedContact } from './contact-input';
import { applyPlan, emptyContact, isEmptyPlan, planMerge, consentRecordId, type MergePlan, type ConsentChange } from './contact-merge';
import type { Classifier } from './classify';
import { dropContactKeys, findContactByKey, repairKeys, writeContactKeys } from './contact-keys';
import { ContactError } from './contact-error';
import { isDuplicateKey, onlyDuplicateKeys } from './duplicate-key';
import { createContactEvents } from './contact-events';
import { createContactPrivacy, type AuditAction } from './contact-privacy';
import { createContactClassification } from './contact-classification';

export { ContactError };
export type { EventInput, RecordEventOptions } from './contact-events';
export type { ContactExport } from './contact-privacy';
export type { ClassDistribution, ClassifyPageInput, ClassifyPageResult } from './contact-classification';
export { addDistribution } from './contact-classification';

export interface UpsertResult {
  contact: ContactDoc;
  created: boolean;
  /** The input matched an existing contact and was merged into it. */
  merged: boolean;
  /** Something was written (false: the same input again changes nothing). */
  changed: boolean;
  ignored: InputError[];
  /** Fields left unset or read by a guess (lenient input only; see PrepareOptions). */
  warnings: FieldWarning[];
}

export interface ContactUpdate {
  /** Contact-schema paths (firstName, lifecycle, timezone, attributes.x, ...) -> values. */
  set?: Record<string, unknown>;
  addTags?: string[];
  removeTags?: string[];
  consent?: { channel: Channel; status: 'subscribed' | 'unsubscribed' | 'pending' };
  emailStatus?: EmailStatus;
  /** A survey answer (the public survey page): stored as `surveys.<surveyId>`, the latest answer wins. */
  surveyAnswer?: { surveyId: string; score: number; comment: string | null; at: Date };
  /** The contact's owner (user id), or null to clear it. */
  owner?: string | null;
}

export interface UpdateOptions {
  source?: string;
  /** The person confirmed a new opt-in (double opt-in): may lift an unsubscribe. */
  reconsent?: boolean;
  context?: { wording?: string | null; ip?: string | null; userAgent?: string | null };
  /** false: the caller does not need the updated contact (a journey step), so it is not read back; `contact` is then the document before the update. */
  readBack?: boolean;
}

export interface ContactsDeps extends PhoneKeys {
  now?: () => Date;
  /** Rule-set evaluator (defaults to rules/ classify). */
  classifier?: Classifier;
}

const MAX_RETRIES = 5;

/** An id as stored (ObjectId), or null when the string can't be one. */
export function toObjectId(id: string | Types.ObjectId): Types.ObjectId | null {
  if (id instanceof Types.ObjectId) return id;
  return typeof id === 'string' && /^[0-9a-f]{24}$/i.test(id) ? new Types.ObjectId(id) : null;
}

const WRITABLE_PATHS = new Map(
  CONTACT_FIELDS.filter((f) => ['firstName', 'lastName', 'locale', 'timezone', 'source', 'channel'].includes(f.path)).map((f) => [f.path, f.mongoPath as string]),
);

export type Contacts = ReturnType<typeof createContacts>;

export function createContacts(deps: ContactsDeps) {
  const keys: PhoneKeys = { secret: deps.secret, phoneKey: deps.phoneKey };
  const now = deps.now ?? (() => new Date());
  const suppressionKey = (emailKey: string) => keyedHash(keys.secret, 'suppression', emailKey);

  async function getContact(id: string | Types.ObjectId): Promise<ContactDoc | null> {
    const _id = toObjectId(id);
    return _id ? ContactModel.findById(_id).lean<ContactDoc>().exec() : null;
  }

  async function audit(action: AuditAction, contactId: string | null, actor: string, detail: Record<string, unknown> = {}) {
    await AuditModel.create({ action, contactId, actor, at: now(), detail });
  }

  /** Consent evidence first, then the pointer to it: a crash in between leaves a record, never a dangling pointer. */
  async function writeConsentRecords(contactId: string, changes: ConsentChange[], source: string, at: Date, context: PreparedContact['consentContext']) {
    if (!changes.length) return;
    const docs = changes.map((c) => ({ ...c, contactId, source, at, wording: context.wording, ip: context.ip, userAgent: context.userAgent }));
    await ConsentRecordModel.insertMany(docs, { ordered: false }).catch((err: unknown) => {
      // Retry of a change already recorded: the unique recordId rejects the copy; anything else is real.
      if (!onlyDuplicateKeys(err)) throw err;
    });
  }

  async function suppress(address: string, reason: SuppressionReason): Promise<void> {
    const r = parseEmail(address);
    const key = r.ok ? r.email.key : address.trim().toLowerCase();
    await suppressKey(key, reason);
  }

  async function suppressKey(emailKey: string, reason: SuppressionReason): Promise<void> {
    // An insert keyed by `_id` (data/suppression-model.ts): the first reason stays; a retry writes nothing new.
    await addSuppression(suppressionKey(emailKey), reason, now());
  }

  async function isKeySuppressed(emailKey: string, marketing: boolean): Promise<boolean> {
    return isHashSuppressed(suppressionKey(emailKey), marketing);
  }

  /**
   * True when email must not be sent: the address is on the suppression list, or the contact is erased,
   * bounced, complained, invalid or (for marketing mail, the default) unsubscribed. With
   * `{ marketing: false }` (transactional mail) an unsubscribe alone does not suppress.
   */
  async function isSuppressed(target: string | ContactDoc, opts: { marketing?: boolean } = {}): Promise<boolean> {
    const marketing = opts.marketing ?? true;
    let doc: ContactDoc | null;
    if (typeof target === 'string' && target.includes('@')) {
      const r = parseEmail(target);
      if (!r.ok) return true;
      if (await isKeySuppressed(r.email.key, marketing)) return true;
      doc = await findContactByKey('email', r.email.key);
      if (!doc) return false;
    } else {
      doc = typeof target === 'string' ? await getContact(target) : target;
      if (!doc) return true;
    }
    if (doc.erasedAt || !doc.emailKey) return true;
    if (marketing && doc.consent?.email?.status === 'unsubscribed') return true;
    if (['bounced', 'complained', 'invalid'].includes(doc.emailStatus)) return true;
    return isKeySuppressed(doc.emailKey, marketing);
  }

  async function findExisting(p: PreparedContact): Promise<ContactDoc | null> {
    // By `_id`-keyed pointers (data/contact-keys.ts): a filter on emailKey or externalId is a scan on FerretDB.
    const byExt = p.externalId ? await findContactByKey('external', p.externalId) : null;
    const byEmail = p.email ? await findContactByKey('email', p.email.key) : null;
    if (byExt && byEmail && !byExt._id.equals(byEmail._id)) {
      throw new ContactError('E_CONTACT_CONFLICT', 'the email address and the externalId belong to two different contacts', '/externalId', 409);
    }
    return byExt ?? byEmail;
  }

  /** Compare-and-set write of a plan onto the revision it was planned from. False: someone else wrote first. */
  async function writePlan(doc: ContactDoc, plan: MergePlan, source: string, context: PreparedContact['consentContext']): Promise<boolean> {
    await writeConsentRecords(String(doc._id), plan.consent, source, now(), context);
    const res = await ContactModel.collection.updateOne(
      { _id: doc._id, rev: doc.rev },
      { $set: { ...plan.set, updatedAt: now() }, $inc: { rev: 1 } },
    );
    if (res.matchedCount === 0) return false;
    if (plan.set.emailKey !== undefined || plan.set.externalId !== undefined) {
      const next = { _id: doc._id, emailKey: (plan.set.emailKey as string | undefined) ?? doc.emailKey, externalId: (plan.set.externalId as string | undefined) ?? doc.externalId };
      await writeContactKeys(next);
      await dropContactKeys(doc._id, { emailKey: next.emailKey === doc.emailKey ? undefined : doc.emailKey, externalId: next.externalId === doc.externalId ? undefined : doc.externalId });
    }
    if (plan.suppress && (plan.set.emailKey ?? doc.emailKey)) await suppressKey((plan.set.emailKey ?? doc.emailKey) as string, 'unsubscribed');
    return true;
  }

  /**
   * Creates or merges a contact, matched by externalId or the email dedupe key. Validates fully
   * first (ContactError on bad input). The same input twice writes nothing the second time.
   */
  async function upsertContact(input: ContactInput, opts: { source?: string } & Omit<PrepareOptions, 'requireEmail'> = {}): Promise<UpsertResult> {
    const source = opts.source ?? 'api';
    const prepared = prepareContact(input, opts);
    if (!prepared.ok) throw new ContactError(prepared.error.code, prepared.error.message, prepared.error.pointer);
    const p = prepared.contact;
    const warnings = prepared.warnings;
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const existing = await findExisting(p);
      const ctx = { keys, now: now(), source };
      if (existing) {
        if (existing.erasedAt) throw new ContactError('E_ERASED', 'this contact was erased', '', 409);
        const plan = planMerge(existing, p, ctx);
        if (isEmptyPlan(plan)) return { contact: existing, created: false, merged: true, changed: false, ignored: plan.ignored, warnings };
        try {
          if (!(await writePlan(existing, plan, source, p.consentContext))) continue;
        } catch (err) {
          if (isDuplicateKey(err)) throw new ContactError('E_EMAIL_TAKEN', 'another contact already has this email address', '/email', 409);
          throw err;
        }
        const contact = (await getContact(existing._id)) as ContactDoc;
        return { contact, created: false, merged: true, changed: true, ignored: plan.ignored, warnings };
      }
      if (p.email && (await findBlock(suppressionKey(p.email.key)))?.reason === 'erased') {
        throw new ContactError('E_ERASED', 'this address belongs to an erased contact and is not re-created by an import or API call', '/email', 409);
      }
      const doc = emptyContact(new Types.ObjectId(), ctx.now, source);
      const plan = planMerge(doc, p, ctx);
      applyPlan(doc, plan);
      await writeConsentRecords(String(doc._id), plan.consent, source, ctx.now, p.consentContext);
      try {
        await ContactModel.collection.insertOne(doc as never);
      } catch (err) {
        if (isDuplicateKey(err)) {
          // Created concurrently, or by our own earlier attempt that crashed before its pointers: make sure
          // the owner's pointers exist, then merge into it.
          await repairKeys({ emailKey: p.email?.key, externalId: p.externalId });
          continue;
        }
        throw err;
      }
      await writeContactKeys(doc);
      if (plan.suppress && doc.emailKey) await suppressKey(doc.emailKey, 'unsubscribed');
      return { contact: doc, created: true, merged: false, changed: true, ignored: plan.ignored, warnings };
    }
    throw new ContactError('E_CONFLICT', 'the contact changed concurrently too many times; retry', '', 409);
  }

  async function getContactView(id: string): Promise<ContactView | null> {
    const doc = await getContact(id);
    return doc && !doc.erasedAt ? toContactView(doc) : null;
  }

  async function findByEmail(raw: string): Promise<ContactDoc | null> {
    const r = parseEmail(raw);
    return r.ok ? findContactByKey('email', r.email.key) : null;
  }

  /**
   * Applies a journey/API update. Consent follows the same lock as upserts: an unsubscribe is only
   * lifted with `reconsent` (a confirmed double opt-in). Returns the updated contact (null: not found/erased).
   */
  async function applyContactUpdate(id: string, update: ContactUpdate, opts: UpdateOptions = {}): Promise<{ contact: ContactDoc | null; changed: boolean; ignored: InputError[] }> {
    const source = opts.source ?? 'journey';
    for (let attempt = 0; attempt < MAX_RETRIES; attempt++) {
      const doc = await getContact(id);
      if (!doc || doc.erasedAt) return { contact: null, changed: false, ignored: [] };
      const at = now();
      const set: Record<string, unknown> = {};
      const ignored: InputError[] = [];
      const consent: ConsentChange[] = [];
      let unsubscribed = false;
      for (const [path, value] of Object.entries(update.set ?? {})) {
        if (WRITABLE_PATHS.has(path)) {
          if ((doc as unknown as Record<string, unknown>)[WRITABLE_PATHS.get(path)!] !== value) set[WRITABLE_PATHS.get(path)!] = value;
        } else if ((CLASSIFICATION_FIELDS as readonly string[]).includes(path)) {
          if ((doc.classification as Record<string, { value?: unknown } | undefined>)[path]?.value !== value) {
            set[`classification.${path}`] = { value: String(value), rule: `update:${source}`, reason: 'set by an update step', at };
          }
        } else if (/^(attributes\.)?[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(path)) {
          const key = path.replace(/^attributes\./, '');
          if (JSON.stringify(doc.attributes?.[key] ?? null) !== JSON.stringify(value ?? null)) set[`attributes.${key}`] = value;
        } else {
          throw new ContactError('E_FIELD_READONLY', `"${path}" can't be set by an update`, `/set/${path}`);
        }
      }
      const tags = new Set(doc.tags);
      for (const t of update.addTags ?? []) {
        const n = normaliseTag(t);
        if (n === null) throw new ContactError('E_TAG', `invalid tag "${t}"`, '/addTags');
        tags.add(n);
      }
      for (const t of update.removeTags ?? []) tags.delete(t.trim().toLowerCase());
      if ([...tags].join('\u0000') !== doc.tags.join('\u0000')) set.tags = [...tags];
      if (update.surveyAnswer) {
        const { surveyId, score, comment, at: answeredAt } = update.surveyAnswer;
        if (!/^[a-z][a-z0-9_]{0,39}$/.test(surveyId)) throw new ContactError('E_SURVEY', `invalid survey id "${surveyId.slice(0, 40)}"`, '/surveyAnswer/surveyId');
        const cur = doc.surveys?.[surveyId];
        if (!cur || cur.score !== score || (cur.comment ?? null) !== comment) set[`surveys.${surveyId}`] = { score, comment, at: answeredAt };
      }
      if (update.owner !== undefined && (doc.owner ?? null) !== update.owner) set.owner = update.owner;
      if (update.consent) {
        const { channel, status } = update.consent;
        const cur = doc.consent[channel];
        if (cur.status !== status) {
          if (cur.status === 'unsubscribed' && !opts.reconsent) {
            ignored.push({ code: 'E_CONSENT_LOCKED', message: `consent.${channel} stays unsubscribed without a confirmed re-opt-in`, pointer: '/consent' });
          } else {
            const recordId = consentRecordId(keys.secret, String(doc._id), channel, status, cur.recordId);
            consent.push({ channel, status, recordId, previousRecordId: cur.recordId });
            set[`consent.${channel}`] = { status, recordId, at };
            if (channel === 'email' && status === 'unsubscribed') unsubscribed = true;
            if (channel === 'email' && status === 'subscribed' && opts.reconsent) set.doubleOptIn = { state: 'confirmed', requestedAt: doc.doubleOptIn?.requestedAt ?? null, confirmedAt: at };
          }
        }
      }
      // A hard bounce while the address is being verified (status pending) proves it does not exist.
      const emailStatus = update.emailStatus === 'bounced' && doc.emailStatus === 'pending' ? 'invalid' : update.emailStatus;
      if (emailStatus && emailStatus !== doc.emailStatus) {
        if (!(EMAIL_STATUSES as readonly string[]).includes(emailStatus)) throw new ContactError('E_EMAIL_STATUS', 'unknown email status', '/emailStatus');
        set.emailStatus = emailStatus;
        set.emailStatusAt = at;
        if (update.emailStatus === 'verified') set.emailVerifiedAt = at;
      }
      if (Object.keys(set).length === 0) return { contact: doc, changed: false, ignored };
      const plan: MergePlan = { set, consent, ignored, suppress: unsubscribed };
      const ctx = { wording: opts.context?.wording ?? null, ip: opts.context?.ip ?? null, userAgent: opts.context?.userAgent ?? null };
      if (!(await writePlan(doc, plan, source, ctx))) continue;
      if (doc.emailKey && (update.emailStatus === 'bounced' || update.emailStatus === 'complained')) {
        await suppressKey(doc.emailKey, update.emailStatus === 'bounced' ? 'hard_bounce' : 'complaint');
      }
      if (opts.reconsent && update.consent?.channel === 'email' && update.consent.status === 'subscribed' && doc.emailKey) {
        // A confirmed re-opt-in lifts an unsubscribe suppression (never an erasure, bounce or complaint one).
        await liftUnsubscribe(suppressionKey(doc.emailKey));
      }
      return { contact: opts.readBack === false ? doc : await getContact(doc._id), changed: true, ignored };
    }
    throw new ContactError('E_CONFLICT', 'the contact changed concurrently too many times; retry', '', 409);
  }

  const events = createContactEvents({ now, getContact, applyContactUpdate });
  const privacy = createContactPrivacy({ keys, now, getContact, audit, isSuppressed, suppressKey });
  const classification = createContactClassification({ now, getContact, classifier: deps.classifier });

  return {
    keys,
    suppressionKey,
    getContact,
    getContactView,
    findByEmail,
    upsertContact,
    applyContactUpdate,
    ...events,
    isSuppressed,
    suppress,
    ...privacy,
    ...classification,
  };
}

// ---- default instance, configured from the environment on first use ----
let defaultContacts: Contacts | undefined;
function contacts(): Contacts {
  if (!defaultContacts) {
    const cfg = loadConfig();
    defaultContacts = createContacts({ secret: cfg.secret, phoneKey: cfg.phoneKey });
  }
  return defaultContacts;
}

export const upsertContact: Contacts['upsertContact'] = (...a) => contacts().upsertContact(...a);
export const getContact: Contacts['getContact'] = (...a) => contacts().getContact(...a);
export const getContactView: Contacts['getContactView'] = (...a) => contacts().getContactView(...a);
export const findByEmail: Contacts['findByEmail'] = (...a) => contacts().findByEmail(...a);
export const applyContactUpdate: Contacts['applyContactUpdate'] = (...a) => contacts().applyContactUpdate(...a);
export const recordEvent: Contacts['recordEvent'] = (...a) => contacts().recordEvent(...a);
export const isSuppressed: Contacts['isSuppressed'] = (...a) => contacts().isSuppressed(...a);
export const suppress: Contacts['suppress'] = (...a) => contacts().suppress(...a);
export const exportContact: Contacts['exportContact'] = (...a) => contacts().exportContact(...a);
export const eraseContact: Contacts['eraseContact'] = (...a) => contacts().eraseContact(...a);
export const classifyContact: Contacts['classifyContact'] = (...a) => contacts().classifyContact(...a);
export const classifyAll: Contacts['classifyAll'] = (...a) => contacts().classifyAll(...a);
export const classifyPage: Contacts['classifyPage'] = (...a) => contacts().classifyPage(...a);
export const estimateContacts: Contacts['estimateContacts'] = (...a) => contacts().estimateContacts(...a);

export type { ContactInput, ConsentStatus, ContactDoc };

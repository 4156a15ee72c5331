/**
 * The contacts repository: the one module other parts use to read and write contacts, consent,
 * suppression, events and the audit log. Built by `createContacts({ secret, phoneKey })`; the
 * module-level functions below use a default instance configured from the environment.
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
import { randomUUID } from 'node:crypto';
import { Types } from 'mongoose';
import { keyedHash } from '../lib/crypto';
import { parseEmail } from '../lib/email-address';
import { revealPhone, type PhoneKeys } from '../lib/phone';
import { loadConfig } from '../lib/config';
import { CONTACT_FIELDS, type ContactView } from '../rules/contact-schema';
import type { EmailStatus, RuleSetPlan } from '../rules/plan';
import { ContactModel, CLASSIFICATION_FIELDS, EMAIL_STATUSES, type Channel, type ContactDoc, type ConsentStatus } from './contact-model';
import { ConsentRecordModel, type ConsentRecordDoc } from './consent-model';
import { addSuppression, findBlock, isHashSuppressed, liftUnsubscribe, type SuppressionReason } from './suppression-model';
import { ContactEventModel, type ContactEventDoc, type NewEvent, type SojournEvent } from './contact-event-model';
import { dropContactFromOutbox } from './event-outbox';
import { AuditModel } from './audit-model';
import { toContactView } from './contact-view';
import { prepareContact, normaliseTag, type ContactInput, type FieldWarning, type InputError, type PrepareOptions, type PreparedContact } from './contact-input';
import { applyPlan, emptyContact, isEmptyPlan, planMerge, consentRecordId, type MergePlan, type ConsentChange } from './contact-merge';
import { classifyWith, type Classifier } from './classify';
import { dropContactKeys, findContactByKey, repairKeys, writeContactKeys } from './contact-keys';

export class ContactError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly pointer = '',
    /** HTTP status the API answers with. */
    readonly status = 400,
  ) {
    super(message);
  }
}

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
}

export interface UpdateOptions {
  source?: string;
  /** The person confirmed a new opt-in (double opt-in): may lift an unsubscribe. */
  reconsent?: boolean;
  context?: { wording?: string | null; ip?: string | null; userAgent?: string | null };
}

/** What `recordEvent` is given: the one event type, id, time and data optional (see data/contact-event-model.ts). */
export type EventInput = NewEvent;

export interface RecordEventOptions {
  /**
   * Called for a new event after the contact checks and before the event is inserted (the ingest puts
   * it in the outbox here, so no stored event can miss its dispatch).
   */
  beforeInsert?: (event: SojournEvent) => Promise<void>;
}

export interface ContactExport {
  contact: Record<string, unknown>;
  phones: { e164: string; type: string; country: string | null; source: string | null; addedAt: Date }[];
  consentRecords: ConsentRecordDoc[];
  events: ContactEventDoc[];
  suppressed: boolean;
  exportedAt: Date;
}

export interface ContactsDeps extends PhoneKeys {
  now?: () => Date;
  /** Rule-set evaluator (defaults to rules/ classify). */
  classifier?: Classifier;
}

const APPLIED_EVENTS_KEPT = 100;
const MAX_RETRIES = 5;

export function isDuplicateKeyError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: number }).code === 11000;
}

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

  async function audit(action: 'contact.export' | 'contact.erase' | 'phone.decrypt' | 'contact.suppress', contactId: string | null, actor: string, detail: Record<string, unknown> = {}) {
    await AuditModel.create({ action, contactId, actor, at: now(), detail });
  }

  /** Consent evidence first, then the pointer to it: a crash in between leaves a record, never a dangling pointer. */
  async function writeConsentRecords(contactId: string, changes: ConsentChange[], source: string, at: Date, context: PreparedContact['consentContext']) {
    if (!changes.length) return;
    const docs = changes.map((c) => ({ ...c, contactId, source, at, wording: context.wording, ip: context.ip, userAgent: context.userAgent }));
    await ConsentRecordModel.insertMany(docs, { ordered: false }).catch((err: unknown) => {
      // Retry of a change already recorded: the unique recordId rejects the copy; anything else is real.
      const writeErrors = (err as { writeErrors?: { code?: number; err?: { code?: number } }[] }).writeErrors;
      const dupOnly = isDuplicateKeyError(err) || (writeErrors?.length && writeErrors.every((e) => (e.code ?? e.err?.code) === 11000));
      if (!dupOnly) throw err;
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
          if (isDuplicateKeyError(err)) throw new ContactError('E_EMAIL_TAKEN', 'another contact already has this email address', '/email', 409);
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
        if (isDuplicateKeyError(err)) {
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
      return { contact: await getContact(doc._id), changed: true, ignored };
    }
    throw new ContactError('E_CONFLICT', 'the contact changed concurrently too many times; retry', '', 409);
  }

  /** Engagement effects of an event, as one guarded update (applied at most once per eventId). */
  function engagementUpdate(e: { name: string; at: Date; data: Record<string, unknown>; machine?: boolean }): { inc: Record<string, number>; max: Record<string, Date> } | null {
    const at = e.at;
    // Machine opens and clicks (privacy proxies, link scanners, prefetch) are stored but are not a person.
    if (e.machine === true || e.data.machine === true) return null;
    switch (e.name) {
      case 'email.opened':
        return { inc: { 'engagement.opens': 1 }, max: { 'engagement.lastOpenAt': at, lastActivityAt: at } };
      case 'email.clicked':
        return { inc: { 'engagement.clicks': 1 }, max: { 'engagement.lastClickAt': at, lastActivityAt: at } };
      case 'order.completed': {
        const amount = typeof e.data.amount === 'number' && Number.isFinite(e.data.amount) ? e.data.amount : 0;
        return { inc: { 'engagement.orders': 1, 'engagement.revenue': amount }, max: { 'engagement.lastOrderAt': at, lastActivityAt: at } };
      }
      case 'contact.created':
      case 'contact.login':
        return { inc: {}, max: { lastActivityAt: at } };
      default:
        return null;
    }
  }

  async function applyEvent(contact: ContactDoc, ev: ContactEventDoc): Promise<void> {
    const eng = engagementUpdate(ev);
    if (eng) {
      // The $ne guard makes this apply-once: a retry after a crash finds the id already applied.
      await ContactModel.collection.updateOne(
        { _id: contact._id, 'engagement.appliedEventIds': { $ne: ev._id } },
        {
          ...(Object.keys(eng.inc).length ? { $inc: { ...eng.inc, rev: 1 } } : { $inc: { rev: 1 } }),
          $max: eng.max,
          $push: { 'engagement.appliedEventIds': { $each: [ev._id], $slice: -APPLIED_EVENTS_KEPT } },
          $set: { updatedAt: now() },
        } as never,
      );
    }
    const ctx = { source: `event:${ev.name}` };
    if (ev.name === 'email.unsubscribed') await applyContactUpdate(String(contact._id), { consent: { channel: 'email', status: 'unsubscribed' } }, ctx);
    if (ev.name === 'email.complained') await applyContactUpdate(String(contact._id), { consent: { channel: 'email', status: 'unsubscribed' }, emailStatus: 'complained' }, ctx);
    if (ev.name === 'email.bounced' && ev.data.type === 'hard') await applyContactUpdate(String(contact._id), { emailStatus: 'bounced' }, ctx);
    await ContactEventModel.collection.updateOne({ _id: ev._id } as never, { $set: { appliedAt: now() } });
  }

  /** Marks an event as handed to the engine (a key write). */
  async function markEventDispatched(eventId: string): Promise<void> {
    await ContactEventModel.collection.updateOne({ _id: eventId } as never, { $set: { dispatchedAt: now() } });
  }

  /** A stored event by id (a key lookup), or null. */
  async function findEvent(eventId: string): Promise<ContactEventDoc | null> {
    return (await ContactEventModel.collection.findOne({ _id: eventId } as never)) as ContactEventDoc | null;
  }

  /**
   * Stores an event once per event id (an insert keyed by `_id`; the duplicate key says "already
   * stored") and applies its effects (engagement counters, consent, email status) once. `duplicate` is
   * true when the id was already stored; the stored copy is returned (an id reused for another contact
   * is refused). Machine events are stored with their flag and change no engagement.
   */
  async function recordEvent(input: EventInput, opts: RecordEventOptions = {}): Promise<{ event: ContactEventDoc; duplicate: boolean }> {
    const eventId = input.eventId ?? randomUUID();
    const asDuplicate = async (stored: ContactEventDoc) => {
      if (stored.contactId !== input.contactId.toLowerCase() && stored.contactId !== input.contactId) {
        throw new ContactError('E_EVENT_ID_REUSED', 'this eventId was already used for another contact', '/eventId', 409);
      }
      if (!stored.appliedAt) {
        const c = await getContact(stored.contactId);
        if (c && !c.erasedAt) await applyEvent(c, stored); // finish a crashed earlier attempt
      }
      return { event: stored, duplicate: true };
    };
    const existing = await findEvent(eventId);
    if (existing) return asDuplicate(existing);
    const contact = await getContact(input.contactId);
    if (!contact) throw new ContactError('E_NOT_FOUND', 'no contact with this id', '/contactId', 404);
    if (contact.erasedAt) throw new ContactError('E_ERASED', 'this contact was erased', '/contactId', 409);
    const machine = input.machine === true || input.data?.machine === true;
    const event: ContactEventDoc = {
      _id: eventId,
      eventId,
      contactId: String(contact._id),
      name: input.name,
      at: input.at ?? now(),
      data: input.data ?? {},
      machine,
      receivedAt: now(),
      appliedAt: null,
      dispatchedAt: null,
    };
    await opts.beforeInsert?.({ eventId, contactId: event.contactId, name: event.name, at: event.at, data: event.data, machine });
    try {
      await ContactEventModel.collection.insertOne({ ...event } as never);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      return asDuplicate((await findEvent(eventId)) as ContactEventDoc); // stored concurrently
    }
    await applyEvent(contact, event);
    return { event, duplicate: false };
  }

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
   * written, consent records and events are deleted, and the contact becomes a tombstone without any
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
    await dropContactFromOutbox(contactId);
    return { erased: true, alreadyErased };
  }

  async function classifyContact(id: string, ruleSets: RuleSetPlan[] | Record<string, RuleSetPlan>, opts: { now?: Date } = {}) {
    const doc = await getContact(id);
    if (!doc || doc.erasedAt) return null;
    const at = opts.now ?? now();
    const set = classifyWith(deps.classifier, doc, Object.values(ruleSets), at);
    if (Object.keys(set).length) await ContactModel.collection.updateOne({ _id: doc._id }, { $set: { ...set, updatedAt: at }, $inc: { rev: 1 } });
    return { changed: Object.keys(set).length > 0, set };
  }

  /** Classifies every live contact in pages of `batchSize` by _id (bounded memory); writes only changes. */
  async function classifyAll(ruleSets: RuleSetPlan[] | Record<string, RuleSetPlan>, opts: { batchSize?: number; now?: Date } = {}) {
    const batchSize = opts.batchSize ?? 500;
    const list = Object.values(ruleSets);
    const at = opts.now ?? now();
    let last: Types.ObjectId | null = null;
    let scanned = 0;
    let changed = 0;
    for (;;) {
      const filter: Record<string, unknown> = { erasedAt: null };
      if (last) filter._id = { $gt: last };
      const page = await ContactModel.find(filter).sort({ _id: 1 }).limit(batchSize).lean<ContactDoc[]>().exec();
      if (!page.length) break;
      const ops = [];
      for (const doc of page) {
        const set = classifyWith(deps.classifier, doc, list, at);
        if (Object.keys(set).length) ops.push({ updateOne: { filter: { _id: doc._id }, update: { $set: { ...set, updatedAt: at }, $inc: { rev: 1 } } } });
      }
      if (ops.length) await ContactModel.collection.bulkWrite(ops as never, { ordered: false });
      scanned += page.length;
      changed += ops.length;
      last = page[page.length - 1]._id;
      if (page.length < batchSize) break;
    }
    return { scanned, changed };
  }

  return {
    keys,
    suppressionKey,
    getContact,
    getContactView,
    findByEmail,
    upsertContact,
    applyContactUpdate,
    recordEvent,
    findEvent,
    markEventDispatched,
    isSuppressed,
    suppress,
    exportContact,
    revealPhones,
    eraseContact,
    classifyContact,
    classifyAll,
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

export type { ContactInput, ConsentStatus, ContactDoc };

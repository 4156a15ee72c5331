/**
 * A contact's events: stored once per event id (an insert keyed by `_id`) and applied once (engagement
 * counters guarded by the contact's bounded `engagement.appliedEventIds`; consent and email status through
 * the contacts' own update). Part of the contacts repository (data/contacts.ts composes it).
 */
import { randomUUID } from 'node:crypto';
import type { ContactDoc } from './contact-model';
import { ContactModel } from './contact-model';
import { ContactEventModel, type ContactEventDoc, type NewEvent, type SojournEvent } from './contact-event-model';
import { ContactError } from './contact-error';
import { isDuplicateKey } from './duplicate-key';
import { recordOpenHour } from './open-hours';

const APPLIED_EVENTS_KEPT = 100;

/** What `recordEvent` is given: the one event type, id, time and data optional (see data/contact-event-model.ts). */
export type EventInput = NewEvent;

export interface RecordEventOptions {
  /**
   * Called after the contact checks and before the event is inserted (the ingest puts it in the outbox
   * here, so no stored event can miss its dispatch). Answers true when it wrote something that
   * `onDuplicate` must undo should the id be stored already.
   */
  beforeInsert?: (event: SojournEvent) => Promise<boolean | void>;
  /** Called when the id turned out to be stored already and `beforeInsert` answered true: undo it. */
  onDuplicate?: (eventId: string) => Promise<void>;
}

/** What the events part needs from the rest of the repository. */
export interface ContactEventDeps {
  now: () => Date;
  getContact: (id: string) => Promise<ContactDoc | null>;
  /** The contacts' update, for the consent and email-status effects of unsubscribe, complaint and hard bounce. */
  applyContactUpdate: (
    id: string,
    update: { consent?: { channel: 'email'; status: 'unsubscribed' }; emailStatus?: 'bounced' | 'complained' },
    opts: { source: string },
  ) => Promise<{ contact: ContactDoc | null }>;
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

/** The contact fields (as `contact` shows them in CEL) that classification after an event may change. */
const CLASSIFIED = ['importance', 'lifecycle', 'rfm', 'businessType', 'rfmScore'] as const;

/**
 * The fields of the `contact` view that recording an event can change: its engagement effects above,
 * consent and email status, and the classification the ingest runs after some events
 * (engine/ingest.ts RECLASSIFY_ON). null for every other event name: not known, so anything.
 */
export function contactFieldsChangedBy(name: string): readonly string[] | null {
  switch (name) {
    case 'email.opened':
    case 'email.clicked':
    case 'order.completed':
      return ['engagement', 'lastActivityAt', ...CLASSIFIED];
    case 'contact.created':
    case 'contact.login':
      return ['lastActivityAt', ...CLASSIFIED];
    case 'email.unsubscribed':
      return ['consent'];
    case 'email.complained':
      return ['consent', 'emailStatus'];
    case 'email.bounced':
      return ['emailStatus'];
    default:
      return null;
  }
}

export function createContactEvents({ now, getContact, applyContactUpdate }: ContactEventDeps) {
  /**
   * Applies the event's effects once. Returns the contact as they left it when this call knows it (the
   * engagement update returns the document it wrote; an update step reads it back); null when it does
   * not (the engagement was applied by an earlier attempt).
   */
  async function applyEvent(contact: ContactDoc, ev: ContactEventDoc): Promise<ContactDoc | null> {
    const eng = engagementUpdate(ev);
    let after: ContactDoc | null = contact;
    // A person's open also goes into their hour-of-week histogram (send-time optimisation): an insert keyed by the event id.
    if (eng && ev.name === 'email.opened') await recordOpenHour({ eventId: ev._id, contactId: String(contact._id), at: ev.at, timezone: contact.timezone });
    if (eng) {
      // The $ne guard makes this apply-once: a retry after a crash finds the id already applied.
      after = (await ContactModel.collection.findOneAndUpdate(
        { _id: contact._id, 'engagement.appliedEventIds': { $ne: ev._id } },
        {
          ...(Object.keys(eng.inc).length ? { $inc: { ...eng.inc, rev: 1 } } : { $inc: { rev: 1 } }),
          $max: eng.max,
          $push: { 'engagement.appliedEventIds': { $each: [ev._id], $slice: -APPLIED_EVENTS_KEPT } },
          $set: { updatedAt: now() },
        } as never,
        { returnDocument: 'after' },
      )) as ContactDoc | null;
    }
    const ctx = { source: `event:${ev.name}` };
    const update = async (u: Parameters<typeof applyContactUpdate>[1]) => {
      after = (await applyContactUpdate(String(contact._id), u, ctx)).contact;
    };
    if (ev.name === 'email.unsubscribed') await update({ consent: { channel: 'email', status: 'unsubscribed' } });
    if (ev.name === 'email.complained') await update({ consent: { channel: 'email', status: 'unsubscribed' }, emailStatus: 'complained' });
    if (ev.name === 'email.bounced' && ev.data.type === 'hard') await update({ emailStatus: 'bounced' });
    await ContactEventModel.collection.updateOne({ _id: ev._id } as never, { $set: { appliedAt: now() } });
    return after;
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
  async function recordEvent(input: EventInput, opts: RecordEventOptions = {}): Promise<{ event: ContactEventDoc; duplicate: boolean; contact?: ContactDoc }> {
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
    // No lookup first: the insert keyed by the id is the check (a duplicate costs the lookup instead).
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
    const enqueued = (await opts.beforeInsert?.({ eventId, contactId: event.contactId, name: event.name, at: event.at, data: event.data, machine })) === true;
    try {
      await ContactEventModel.collection.insertOne({ ...event } as never);
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const stored = (await findEvent(eventId)) as ContactEventDoc;
      // An outbox entry this call made for an event that is already with the engine, or is another
      // contact's, must not stay (the one for a stored, undispatched event is what the ingest wants).
      const foreign = stored.contactId !== event.contactId;
      if (enqueued && (foreign || stored.dispatchedAt)) await opts.onDuplicate?.(eventId);
      return asDuplicate(stored);
    }
    const after = await applyEvent(contact, event);
    return { event, duplicate: false, ...(after ? { contact: after } : {}) };
  }

  return { recordEvent, findEvent, markEventDispatched };
}

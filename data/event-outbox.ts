/**
 * The event outbox (`event_outbox`): one small document per event that is stored but not yet handed to
 * the engine, keyed by the event id and holding the whole event. Written before the event itself, so a
 * crash between the two leaves an entry the sweep completes (it stores the event from this copy), never
 * an event nobody will dispatch; deleted once the engine has it. The sweep pages this collection by
 * `_id`: its cost follows the number of undispatched events, never the size of `contact_events`.
 */
import mongoose, { Schema, type Model } from 'mongoose';
import type { SojournEvent } from './contact-event-model';
import { isDuplicateKey } from './duplicate-key';

export interface OutboxDoc {
  /** = event id. */
  _id: string;
  event: Omit<SojournEvent, 'eventId'>;
  attempts: number;
  /** The sweep leaves the entry alone before this (the in-line attempt, then backoff). */
  nextAttemptAt: Date;
  lastError: string | null;
  createdAt: Date;
}

const schema = new Schema<OutboxDoc>(
  {
    _id: { type: String, required: true },
    event: { type: Schema.Types.Mixed, required: true },
    attempts: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, required: true },
    lastError: { type: String, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: 'event_outbox', versionKey: false, minimize: false },
);

export const OutboxModel: Model<OutboxDoc> =
  (mongoose.models.EventOutbox as Model<OutboxDoc> | undefined) ?? mongoose.model<OutboxDoc>('EventOutbox', schema);

/**
 * Puts an event in the outbox unless it is there already (an upsert keyed by `_id`: retry-safe).
 * True when this call created the entry.
 */
export async function enqueueOutbox(event: SojournEvent, firstAttemptAt: Date, now: Date): Promise<boolean> {
  const { eventId, ...rest } = event;
  return OutboxModel.collection
    .updateOne(
      { _id: eventId } as never,
      { $setOnInsert: { _id: eventId, event: rest, attempts: 0, nextAttemptAt: firstAttemptAt, lastError: null, createdAt: now } } as never,
      { upsert: true },
    )
    .then((r) => r.upsertedCount > 0)
    .catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err; // a concurrent upsert inserted it
      return false;
    });
}

/** The event is with the engine: its outbox entry goes. */
export async function removeFromOutbox(eventId: string): Promise<void> {
  await OutboxModel.collection.deleteOne({ _id: eventId } as never);
}

/** A failed attempt: try again at `next`. */
export async function rescheduleOutbox(eventId: string, next: Date, error: string): Promise<void> {
  await OutboxModel.collection.updateOne({ _id: eventId } as never, { $set: { nextAttemptAt: next, lastError: error.slice(0, 500) }, $inc: { attempts: 1 } } as never);
}

/** One page of the outbox in `_id` order after `afterId` (all entries, due or not: the caller decides). */
export async function outboxPage(afterId: string | null, limit: number): Promise<OutboxDoc[]> {
  const filter = afterId === null ? {} : { _id: { $gt: afterId } };
  return (await OutboxModel.collection.find(filter as never).sort({ _id: 1 }).limit(limit).toArray()) as unknown as OutboxDoc[];
}

/** Entries of an erased contact: nothing of theirs is dispatched any more. */
export async function dropContactFromOutbox(contactId: string): Promise<void> {
  await OutboxModel.collection.deleteMany({ 'event.contactId': contactId });
}

/** The event as stored in an entry. */
export function outboxEvent(doc: OutboxDoc): SojournEvent {
  return { ...doc.event, eventId: doc._id, at: new Date(doc.event.at) };
}

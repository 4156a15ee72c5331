/**
 * Contact events (`contact_events`): signup, order, open, click, bounce, complaint, unsubscribe, custom.
 * The event id is the document `_id`, so storing an event is an insert keyed by `_id` (a duplicate key
 * means "already stored") and finding one is a key lookup, on MongoDB and on FerretDB/SQLite alike
 * (which only serves `_id` from an index). `appliedAt` records that the contact effects (engagement,
 * consent, email status) were applied; `dispatchedAt` that the engine was told (engine/ingest.ts).
 */
import mongoose, { Schema, type Model } from 'mongoose';

/**
 * The one event type of Sojourn: what the API, the public endpoints, bounce reports, the demo and the
 * scenario harness hand to the ingest (engine/ingest.ts), and what the dispatcher routes to runs.
 * Ids and small facts only in `data`, never an address. Machine opens and clicks (scanners, privacy
 * proxies) carry `machine: true`: stored, never engagement, never dispatched to runs.
 */
export interface SojournEvent {
  eventId: string;
  contactId: string;
  /** A name from the vocabulary (rules/event-vocabulary.ts) or a journey's declared custom event. */
  name: string;
  at: Date;
  data: Record<string, unknown>;
  machine?: boolean;
}

/** An event as callers offer it: the id, time and data may be left to the ingest. */
export type NewEvent = Pick<SojournEvent, 'contactId' | 'name'> & Partial<Omit<SojournEvent, 'contactId' | 'name'>>;

export interface ContactEventDoc extends SojournEvent {
  /** = eventId. */
  _id: string;
  receivedAt: Date;
  appliedAt: Date | null;
  /** When the engine was told; null: not yet (the outbox, data/event-outbox.ts, holds it until then). */
  dispatchedAt: Date | null;
}

const schema = new Schema<ContactEventDoc>(
  {
    _id: { type: String, required: true },
    // Kept beside _id for readable exports (and databases made before _id became the event id).
    eventId: { type: String, required: true },
    contactId: { type: String, required: true },
    name: { type: String, required: true },
    at: { type: Date, required: true },
    data: { type: Schema.Types.Mixed, default: {} },
    machine: { type: Boolean, default: false },
    receivedAt: { type: Date, required: true },
    appliedAt: { type: Date, default: null },
    dispatchedAt: { type: Date, default: null },
  },
  { collection: 'contact_events', strict: true, versionKey: false, minimize: false },
);
// Export and erasure read a contact's events (not a hot path; MongoDB uses it, FerretDB/SQLite scans).
schema.index({ contactId: 1, at: 1 });

export const ContactEventModel: Model<ContactEventDoc> =
  (mongoose.models.ContactEvent as Model<ContactEventDoc> | undefined) ?? mongoose.model<ContactEventDoc>('ContactEvent', schema);

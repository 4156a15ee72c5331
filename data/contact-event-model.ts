/**
 * Contact events (`contact_events`): signup, order, open, click, bounce, complaint, unsubscribe, custom.
 * `eventId` is unique: the same event delivered twice is stored once and counted once. `appliedAt`
 * records that the engagement counters were updated for it (see data/contacts.ts recordEvent).
 */
import mongoose, { Schema, type Model } from 'mongoose';

export interface ContactEventDoc {
  eventId: string;
  contactId: string;
  name: string;
  at: Date;
  data: Record<string, unknown>;
  receivedAt: Date;
  appliedAt: Date | null;
  /** When the engine was told (API onEvent); null: not yet, tell it again on a retried request. */
  notifiedAt?: Date | null;
}

const schema = new Schema<ContactEventDoc>(
  {
    eventId: { type: String, required: true },
    contactId: { type: String, required: true },
    name: { type: String, required: true },
    at: { type: Date, required: true },
    data: { type: Schema.Types.Mixed, default: {} },
    receivedAt: { type: Date, required: true },
    appliedAt: { type: Date, default: null },
    notifiedAt: { type: Date, default: null },
  },
  { collection: 'contact_events', strict: true, versionKey: false, minimize: false },
);
schema.index({ eventId: 1 }, { unique: true });
schema.index({ contactId: 1, at: 1 });
schema.index({ name: 1, at: 1 });

export const ContactEventModel: Model<ContactEventDoc> =
  (mongoose.models.ContactEvent as Model<ContactEventDoc> | undefined) ?? mongoose.model<ContactEventDoc>('ContactEvent', schema);

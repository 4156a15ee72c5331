/**
 * Consent records (`consent_records`): append-only evidence of every consent change — channel, status,
 * when, where, the wording version shown, IP and user agent. The contact's `consent.<channel>` points at
 * the record that set it. `recordId` is unique and derived from the change itself, so a retried write
 * inserts nothing new. Erasure deletes a contact's records (they hold IP/user agent); the hashed
 * suppression entry is what keeps an erased address from being mailed.
 */
import mongoose, { Schema, type Model } from 'mongoose';
import { CHANNELS, CONSENT_STATUSES, type Channel, type ConsentStatus } from './contact-model';

export interface ConsentRecordDoc {
  recordId: string;
  contactId: string;
  channel: Channel;
  status: ConsentStatus;
  previousRecordId: string | null;
  source: string;
  at: Date;
  wording: string | null;
  ip: string | null;
  userAgent: string | null;
}

const schema = new Schema<ConsentRecordDoc>(
  {
    recordId: { type: String, required: true },
    contactId: { type: String, required: true },
    channel: { type: String, enum: CHANNELS, required: true },
    status: { type: String, enum: CONSENT_STATUSES, required: true },
    previousRecordId: { type: String, default: null },
    source: { type: String, required: true },
    at: { type: Date, required: true },
    wording: { type: String, default: null },
    ip: { type: String, default: null },
    userAgent: { type: String, default: null },
  },
  { collection: 'consent_records', strict: true, versionKey: false },
);
schema.index({ recordId: 1 }, { unique: true });
schema.index({ contactId: 1, at: 1 });

export const ConsentRecordModel: Model<ConsentRecordDoc> =
  (mongoose.models.ConsentRecord as Model<ConsentRecordDoc> | undefined) ?? mongoose.model<ConsentRecordDoc>('ConsentRecord', schema);

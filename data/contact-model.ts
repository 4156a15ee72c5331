/**
 * The stored contact (`contacts`). Layout follows the mongoPath column of rules/contact-schema.ts;
 * every field that is unique or that scans filter/sort on is top-level (emailKey, externalId,
 * phoneIndex, emailStatus, birthdayMonthDay, lastActivityAt, nextVerificationAt, erasedAt), so the
 * same indexes work on MongoDB and on FerretDB/SQLite. See docs/data-model.md.
 *
 * PII lives only in: email, emailKey, aliasKey, firstName, lastName, birthday, attributes, and the
 * encrypted `phones[].enc`. Erasure unsets all of them (data/contacts.ts eraseContact).
 */
import mongoose, { Schema, type Model, type Types } from 'mongoose';
import type { StoredPhone } from '../lib/phone';
import type { EmailStatus } from '../rules/plan';
import type { RfmScore } from '../rules/contact-schema';

export const EMAIL_STATUSES = ['unverified', 'pending', 'verified', 'bounced', 'complained', 'invalid', 'dormant'] as const satisfies readonly EmailStatus[];
export const CONSENT_STATUSES = ['subscribed', 'unsubscribed', 'pending', 'unknown'] as const;
export type ConsentStatus = (typeof CONSENT_STATUSES)[number];
export const CHANNELS = ['email', 'sms', 'phone'] as const;
export type Channel = (typeof CHANNELS)[number];
export const CLASSIFICATION_FIELDS = ['importance', 'lifecycle', 'rfm', 'businessType'] as const;
export type ClassificationField = (typeof CLASSIFICATION_FIELDS)[number];
export const DOUBLE_OPT_IN_STATES = ['none', 'pending', 'confirmed'] as const;

export interface ChannelConsent {
  status: ConsentStatus;
  /** consent_records.recordId of the record that set this status; null before any record. */
  recordId: string | null;
  at: Date | null;
}

export interface ClassificationValue {
  value: string;
  /** Rule set name and rule index (or "otherwise") that set it. */
  rule: string;
  reason: string;
  at: Date;
}

export interface ContactDoc {
  _id: Types.ObjectId;
  externalId?: string;
  email?: string;
  emailKey?: string;
  aliasKey?: string;
  emailDomain?: string;
  emailFlags: { role: boolean; disposable: boolean; alias: boolean; idn: boolean };
  emailStatus: EmailStatus;
  emailStatusAt: Date | null;
  emailVerifiedAt: Date | null;
  nextVerificationAt: Date | null;
  phones: StoredPhone[];
  phoneIndex: string[];
  firstName?: string | null;
  lastName?: string | null;
  locale?: string | null;
  timezone?: string | null;
  birthday?: { month: number; day: number; year?: number | null } | null;
  birthdayMonthDay?: string | null;
  tags: string[];
  /** Journeys the contact was entered into (data/journeys-entered.ts); absent on contacts from before it. */
  journeysEntered?: string[];
  attributes: Record<string, unknown>;
  /** Owner (user) id: who gets this contact's tasks (data/owners.ts). */
  owner?: string | null;
  /** Survey answers by survey id, written by the survey page (server/public/survey-routes.ts). */
  surveys?: Record<string, { score: number; comment: string | null; at: Date }>;
  source?: string | null;
  channel?: string | null;
  consent: Record<Channel, ChannelConsent>;
  doubleOptIn: { state: (typeof DOUBLE_OPT_IN_STATES)[number]; requestedAt: Date | null; confirmedAt: Date | null };
  preferences?: { topics?: Record<string, boolean>; pausedUntil?: Date | null };
  classification: Partial<Record<ClassificationField, ClassificationValue>>;
  /** RFM scores 0-5 (data/rfm-score.ts), written by classification; absent before the first pass. */
  rfmScore?: RfmScore & { at: Date };
  engagement: {
    opens: number; clicks: number; orders: number; revenue: number;
    lastOpenAt: Date | null; lastClickAt: Date | null; lastOrderAt: Date | null;
    /** Ids of the last events applied to the counters (bounded), so a retried apply never counts twice. */
    appliedEventIds: string[];
  };
  lastActivityAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  erasedAt: Date | null;
  /** Revision, incremented by every write; updates compare-and-set on it. */
  rev: number;
  importToken?: string;
}

const channelConsent = new Schema<ChannelConsent>(
  { status: { type: String, enum: CONSENT_STATUSES, default: 'unknown' }, recordId: { type: String, default: null }, at: { type: Date, default: null } },
  { _id: false },
);
const classificationValue = new Schema<ClassificationValue>(
  { value: String, rule: String, reason: String, at: Date },
  { _id: false },
);
const storedPhone = new Schema<StoredPhone>(
  { enc: { type: String, required: true }, index: { type: String, required: true }, type: String, country: String, source: String, addedAt: Date },
  { _id: false },
);

const contactSchema = new Schema<ContactDoc>(
  {
    externalId: { type: String },
    email: { type: String },
    emailKey: { type: String },
    aliasKey: { type: String },
    emailDomain: { type: String },
    emailFlags: {
      role: { type: Boolean, default: false },
      disposable: { type: Boolean, default: false },
      alias: { type: Boolean, default: false },
      idn: { type: Boolean, default: false },
    },
    emailStatus: { type: String, enum: EMAIL_STATUSES, default: 'unverified' },
    emailStatusAt: { type: Date, default: null },
    emailVerifiedAt: { type: Date, default: null },
    nextVerificationAt: { type: Date, default: null },
    phones: { type: [storedPhone], default: [] },
    phoneIndex: { type: [String], default: [] },
    firstName: String,
    lastName: String,
    locale: String,
    timezone: String,
    birthday: { type: new Schema({ month: Number, day: Number, year: Number }, { _id: false }), default: undefined },
    birthdayMonthDay: String,
    tags: { type: [String], default: [] },
    journeysEntered: { type: [String], default: undefined },
    attributes: { type: Schema.Types.Mixed, default: {} },
    owner: String,
    surveys: { type: Schema.Types.Mixed, default: undefined },
    source: String,
    channel: String,
    consent: {
      email: { type: channelConsent, default: () => ({}) },
      sms: { type: channelConsent, default: () => ({}) },
      phone: { type: channelConsent, default: () => ({}) },
    },
    doubleOptIn: {
      state: { type: String, enum: DOUBLE_OPT_IN_STATES, default: 'none' },
      requestedAt: { type: Date, default: null },
      confirmedAt: { type: Date, default: null },
    },
    preferences: { topics: { type: Schema.Types.Mixed }, pausedUntil: { type: Date } },
    classification: {
      importance: classificationValue,
      lifecycle: classificationValue,
      rfm: classificationValue,
      businessType: classificationValue,
    },
    rfmScore: { type: new Schema({ recency: Number, frequency: Number, monetary: Number, at: Date }, { _id: false }), default: undefined },
    engagement: {
      opens: { type: Number, default: 0 },
      clicks: { type: Number, default: 0 },
      orders: { type: Number, default: 0 },
      revenue: { type: Number, default: 0 },
      lastOpenAt: { type: Date, default: null },
      lastClickAt: { type: Date, default: null },
      lastOrderAt: { type: Date, default: null },
      appliedEventIds: { type: [String], default: [] },
    },
    lastActivityAt: { type: Date, default: null },
    createdAt: { type: Date, required: true },
    updatedAt: { type: Date, required: true },
    erasedAt: { type: Date, default: null },
    rev: { type: Number, default: 0 },
    /** Write token of the last bulk import batch that updated the contact (verifies the write landed). */
    importToken: { type: String },
  },
  { collection: 'contacts', strict: true, versionKey: false, minimize: false },
);

// Unique keys are sparse: erased contacts lose emailKey/externalId (never set to null, which would collide).
contactSchema.index({ emailKey: 1 }, { unique: true, sparse: true });
contactSchema.index({ externalId: 1 }, { unique: true, sparse: true });
contactSchema.index({ aliasKey: 1 });
contactSchema.index({ phoneIndex: 1 });
contactSchema.index({ emailStatus: 1 });
contactSchema.index({ birthdayMonthDay: 1 });
contactSchema.index({ lastActivityAt: 1 });
contactSchema.index({ nextVerificationAt: 1 });
contactSchema.index({ createdAt: 1 });

export const ContactModel: Model<ContactDoc> =
  (mongoose.models.Contact as Model<ContactDoc> | undefined) ?? mongoose.model<ContactDoc>('Contact', contactSchema);

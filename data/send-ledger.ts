/**
 * The send ledger (`sends`): one row per email a journey step sends, keyed by
 * `${workflowId}:${stepId}:${iteration}` under a unique index. The row is inserted (pending) before
 * the SMTP call and completed after it, so a retried or replayed activity never emails twice.
 * Every field that is unique or scanned is top-level (FerretDB on SQLite skips nested indexes).
 * The Engine's gate counts marketing sends per contact from it (index contactId, createdAt).
 */
import mongoose, { Schema, type Model } from 'mongoose';

/** `unknown`: SMTP was started and the attempt died before recording the result; not resent (at-most-once). */
export type SendStatus = 'pending' | 'sent' | 'unknown' | 'failed' | 'skipped';

export interface SendDoc {
  key: string;
  workflowId: string;
  contactId: string;
  journeyId: string;
  stepId: string;
  templateId: string;
  /** Template version (content hash) that was rendered. */
  templateVersion: string | null;
  marketing: boolean;
  status: SendStatus;
  /** Deterministic `<hash-of-key@mailDomain>`, fixed before the SMTP call so bounces correlate even for crashed attempts. */
  messageId: string;
  createdAt: Date;
  /** Set just before handing the message to SMTP; a pending row with it set may have been delivered. */
  smtpStartedAt: Date | null;
  sentAt: Date | null;
  /** Activity attempt that last touched the row. */
  attempt: number;
  smtpCode: number | null;
  error: string | null;
  /** Free-form note, e.g. why a pending row was closed as sent without resending. */
  note: string | null;
  /** Set from bounce and complaint reports (mail/bounces.ts). */
  bounceType?: 'hard' | 'soft' | 'complaint' | null;
  bouncedAt?: Date | null;
  bounceCode?: string | null;
}

const sendSchema = new Schema<SendDoc>(
  {
    key: { type: String, required: true },
    workflowId: { type: String, required: true },
    contactId: { type: String, required: true },
    journeyId: { type: String, required: true },
    stepId: { type: String, required: true },
    templateId: { type: String, required: true },
    templateVersion: { type: String, default: null },
    marketing: { type: Boolean, required: true },
    status: { type: String, required: true, enum: ['pending', 'sent', 'unknown', 'failed', 'skipped'] },
    messageId: { type: String, required: true },
    createdAt: { type: Date, required: true },
    smtpStartedAt: { type: Date, default: null },
    sentAt: { type: Date, default: null },
    attempt: { type: Number, default: 1 },
    smtpCode: { type: Number, default: null },
    error: { type: String, default: null },
    note: { type: String, default: null },
    bounceType: { type: String, default: null },
    bouncedAt: { type: Date, default: null },
    bounceCode: { type: String, default: null },
  },
  { collection: 'sends', versionKey: false },
);
sendSchema.index({ key: 1 }, { unique: true });
sendSchema.index({ contactId: 1, createdAt: -1 });
sendSchema.index({ messageId: 1 });

export const Send: Model<SendDoc> = (mongoose.models.Send as Model<SendDoc> | undefined) ?? mongoose.model<SendDoc>('Send', sendSchema);

/** Creates the ledger indexes (unique key first); call at start-up and in tests before relying on them. */
export async function ensureSendLedgerIndexes(): Promise<void> {
  await Send.createIndexes();
}

/** The ledger row for a Message-ID (with or without angle brackets), for bounce and complaint correlation. */
export async function findSendByMessageId(messageId: string): Promise<SendDoc | null> {
  const bare = messageId.trim().replace(/^<|>$/g, '');
  return Send.findOne({ messageId: `<${bare}>` }).lean<SendDoc>().exec();
}

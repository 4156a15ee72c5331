/**
 * The audit log (`audit_log`): who exported or erased a contact, or decrypted a phone number, and when.
 * Holds ids only, never the personal data itself; kept after erasure as the proof that it happened.
 */
import mongoose, { Schema, type Model } from 'mongoose';

export const AUDIT_ACTIONS = ['contact.export', 'contact.erase', 'phone.decrypt', 'contact.suppress'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export interface AuditDoc {
  action: AuditAction;
  contactId: string | null;
  actor: string;
  at: Date;
  detail: Record<string, unknown>;
}

const schema = new Schema<AuditDoc>(
  {
    action: { type: String, enum: AUDIT_ACTIONS, required: true },
    contactId: { type: String, default: null },
    actor: { type: String, required: true },
    at: { type: Date, required: true },
    detail: { type: Schema.Types.Mixed, default: {} },
  },
  { collection: 'audit_log', strict: true, versionKey: false, minimize: false },
);
schema.index({ contactId: 1, at: 1 });
schema.index({ action: 1, at: 1 });

export const AuditModel: Model<AuditDoc> =
  (mongoose.models.Audit as Model<AuditDoc> | undefined) ?? mongoose.model<AuditDoc>('Audit', schema);

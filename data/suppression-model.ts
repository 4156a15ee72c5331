/**
 * The suppression list (`suppressions`): addresses that must never be mailed, keyed by
 * keyedHash(secret, 'suppression', emailKey) so an entry holds no address and survives erasure.
 * Written with an upsert on the unique key ($setOnInsert): a retry or a second reason changes nothing.
 */
import mongoose, { Schema, type Model } from 'mongoose';

export const SUPPRESSION_REASONS = ['unsubscribed', 'erased', 'hard_bounce', 'complaint', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface SuppressionDoc {
  key: string;
  reason: SuppressionReason;
  createdAt: Date;
}

const schema = new Schema<SuppressionDoc>(
  {
    key: { type: String, required: true },
    reason: { type: String, enum: SUPPRESSION_REASONS, required: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'suppressions', strict: true, versionKey: false },
);
schema.index({ key: 1 }, { unique: true });

export const SuppressionModel: Model<SuppressionDoc> =
  (mongoose.models.Suppression as Model<SuppressionDoc> | undefined) ?? mongoose.model<SuppressionDoc>('Suppression', schema);

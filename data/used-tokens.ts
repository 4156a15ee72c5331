/**
 * Replay protection for one-time tokens (double opt-in confirm, address verification): the first
 * use inserts the token id under a unique `_id`; a second use hits the duplicate key and is refused.
 * Idempotency comes from the unique index, never from read-then-write.
 */
import mongoose, { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from './duplicate-key';

export interface UsedTokenDoc {
  _id: string;
  purpose: string;
  contactId: string;
  usedAt: Date;
  /** When the token would have expired anyway; rows older than this can be deleted. */
  expiresAt: Date;
}

const usedTokenSchema = new Schema<UsedTokenDoc>(
  {
    _id: { type: String, required: true },
    purpose: { type: String, required: true },
    contactId: { type: String, required: true },
    usedAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
  },
  { collection: 'used_tokens', versionKey: false },
);

export const UsedToken: Model<UsedTokenDoc> =
  (mongoose.models.UsedToken as Model<UsedTokenDoc> | undefined) ?? mongoose.model<UsedTokenDoc>('UsedToken', usedTokenSchema);

/** Records the use of a one-time token. Returns false when it was already used (a replay). */
export async function claimToken(input: { tokenId: string; purpose: string; contactId: string; expiresAt: Date; now?: Date }): Promise<boolean> {
  try {
    await UsedToken.create({ _id: input.tokenId, purpose: input.purpose, contactId: input.contactId, usedAt: input.now ?? new Date(), expiresAt: input.expiresAt });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

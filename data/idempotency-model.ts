/**
 * Idempotency keys of API requests (`idempotency_keys`). `_id` is a hash of the client's
 * `Idempotency-Key`, so finding one is a key lookup on MongoDB and FerretDB alike, and claiming a key
 * is an insert that a concurrent duplicate loses (E11000). Holds the first answer (status and body) for
 * 24 hours; an expired entry is taken over by the next request with the same key.
 */
import mongoose, { Schema, type Model } from 'mongoose';

export interface IdempotencyDoc {
  _id: string;
  /** Hash of method, path and body: the same key with another request is refused, not replayed. */
  fingerprint: string;
  state: 'pending' | 'done';
  status: number | null;
  contentType: string | null;
  body: string | null;
  createdAt: Date;
}

const schema = new Schema<IdempotencyDoc>(
  {
    _id: { type: String, required: true },
    fingerprint: { type: String, required: true },
    state: { type: String, enum: ['pending', 'done'], required: true },
    status: { type: Number, default: null },
    contentType: { type: String, default: null },
    body: { type: String, default: null },
    createdAt: { type: Date, required: true },
  },
  { collection: 'idempotency_keys', strict: true, versionKey: false },
);
// For the sweep (MongoDB uses it; FerretDB 1.x refuses TTL indexes and scans, once per sweep, not per request).
schema.index({ createdAt: 1 });

export const IdempotencyModel: Model<IdempotencyDoc> =
  (mongoose.models.IdempotencyKey as Model<IdempotencyDoc> | undefined) ?? mongoose.model<IdempotencyDoc>('IdempotencyKey', schema);

/**
 * Deletes keys created before `cutoff` (their 24-hour replay window is over; an unfinished claim of a
 * request that died is released too). Correctness does not depend on it, since the API takes over an
 * expired key itself: this keeps the collection at about one day of keys. Returns how many were removed.
 */
export async function sweepExpiredIdempotencyKeys(cutoff: Date): Promise<number> {
  return (await IdempotencyModel.collection.deleteMany({ createdAt: { $lt: cutoff } })).deletedCount;
}

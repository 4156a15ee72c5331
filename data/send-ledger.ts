/**
 * The send ledger (`sends`): one row per email a journey step sends, keyed by
 * `_id` = `${workflowId}:${stepId}:${iteration}` (also kept as `key`). The row is inserted (pending)
 * before the SMTP call and completed after it, so a retried or replayed activity never emails twice.
 *
 * Every read and write on the send path is by `_id` (an insert keyed by `_id`, or a filter that is
 * exactly `{ _id }`): that is what a MongoDB-compatible database serves from its primary index whatever
 * the size of the ledger (on FerretDB only a filter of `_id` alone is pushed down at all). The claim of
 * the SMTP hand-off is an insert into `send_claims`, never a conditional update.
 * Bounces and link events find a row by Message-ID through `send_refs` (`_id` = Message-ID -> key).
 * `migrateSendLedger()` moves rows written before this layout (ObjectId `_id`, unique `key` index).
 */
import mongoose, { Schema, type Model } from 'mongoose';
import { randomUUID } from 'node:crypto';
import { retryWhileUnavailable } from '../lib/dependency-health';
import { isDuplicateKey, onlyDuplicateKeys } from './duplicate-key';

/** `unknown`: SMTP was started and the attempt died before recording the result; not resent (at-most-once). */
export type SendStatus = 'pending' | 'sent' | 'unknown' | 'failed' | 'skipped';

export interface SendDoc {
  /** The ledger key (same value as `key`). */
  _id: string;
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
  /** How many claims of the SMTP hand-off were released after a failure that delivered nothing (the claim generation). */
  releases?: number;
  /** The journey version of the run that sent it, and its split branch (`step:branch`), for reports. */
  version?: number | null;
  variant?: string | null;
}

const sendSchema = new Schema<SendDoc>(
  {
    _id: { type: String },
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
    releases: { type: Number, default: 0 },
    version: { type: Number, default: null },
    variant: { type: String, default: null },
  },
  { collection: 'sends', versionKey: false },
);
// `_id` is the key: a document created through the model without one gets its key.
sendSchema.pre('validate', function setIdFromKey() {
  if (this._id === undefined || this._id === null) this._id = this.key;
});
// Reports and tests list a contact's sends; nothing on the send path reads by these.
sendSchema.index({ contactId: 1, createdAt: -1 });
sendSchema.index({ messageId: 1 });

export const Send: Model<SendDoc> = (mongoose.models.Send as Model<SendDoc> | undefined) ?? mongoose.model<SendDoc>('Send', sendSchema);

/** Message-ID -> ledger key, so a bounce or a link event finds its row by `_id`. */
interface SendRefDoc { _id: string; key: string }
const sendRefSchema = new Schema<SendRefDoc>({ _id: { type: String }, key: { type: String, required: true } }, { collection: 'send_refs', versionKey: false });
export const SendRef: Model<SendRefDoc> = (mongoose.models.SendRef as Model<SendRefDoc> | undefined) ?? mongoose.model<SendRefDoc>('SendRef', sendRefSchema);

/** Creates the ledger indexes; call at start-up and in tests before relying on them. */
export async function ensureSendLedgerIndexes(): Promise<void> {
  await Send.createIndexes();
  await SendRef.createIndexes();
  await SendClaim.createIndexes();
}

/** The ledger row of a key (a primary-key lookup), or null. */
export async function findLedgerRow(key: string): Promise<SendDoc | null> {
  return (await Send.collection.findOne({ _id: key } as never)) as SendDoc | null;
}

/**
 * Inserts a ledger row keyed by its key (and its Message-ID reference). Returns false when the key was
 * already there: the unique `_id` is the idempotency, no read before the write.
 */
export async function insertLedgerRow(row: Omit<SendDoc, '_id'>): Promise<boolean> {
  await SendRef.collection.insertOne({ _id: row.messageId, key: row.key } as never).catch((err: unknown) => {
    if (!isDuplicateKey(err)) throw err;
  });
  try {
    await Send.collection.insertOne({ ...row, _id: row.key } as never);
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

/**
 * How long a ledger step that must not fail half-way (the claim, its stamp, completion, release) waits
 * for an unreachable database before the attempt gives up: inside the send activity's 2-minute
 * start-to-close timeout, longer than a database restart.
 */
export const LEDGER_PATIENCE_MS = 45_000;

/** Claims of the SMTP hand-off: `_id` = `${ledgerKey}#${generation}`, one per generation of a row. */
interface SendClaimDoc { _id: string; at: Date; attempt: number; owner?: string }
const sendClaimSchema = new Schema<SendClaimDoc>({ _id: { type: String }, at: Date, attempt: Number, owner: String }, { collection: 'send_claims', versionKey: false });
export const SendClaim: Model<SendClaimDoc> = (mongoose.models.SendClaim as Model<SendClaimDoc> | undefined) ?? mongoose.model<SendClaimDoc>('SendClaim', sendClaimSchema);

const claimId = (row: Pick<SendDoc, 'key' | 'releases'>) => `${row.key}#${row.releases ?? 0}`;

/**
 * Claims the SMTP hand-off of a pending row: an insert keyed by `${key}#${generation}`, so exactly one
 * attempt wins a generation whatever the database (an insert under a unique `_id` is atomic everywhere;
 * FerretDB 1.x applies an update as a read and a whole-document write, which two attempts could both win).
 * The winner then stamps `smtpStartedAt` on the row. A transient failure releases the claim by moving
 * the row to the next generation (`releaseLedgerClaim`). A loser gets the row to resolve from.
 */
export async function claimLedgerRow(key: string, at: Date, attempt: number, patienceMs = LEDGER_PATIENCE_MS, inserted?: SendDoc): Promise<{ won: boolean; previous: SendDoc | null }> {
  // `inserted`: the row this attempt has just inserted, so it need not be read back. Were it changed
  // meanwhile (another attempt claimed or released it), the claim insert below still decides: its `_id`
  // names generation 0, which such an attempt has claimed already.
  const row = inserted ?? (await findLedgerRow(key));
  if (!row || row.status !== 'pending' || row.smtpStartedAt) return { won: false, previous: row };
  const id = claimId(row);
  // The owner tells this call's own insert apart from another attempt's when the database stored the
  // insert but its answer was lost (it went down mid-write): the retried insert is then a duplicate of ours.
  const owner = randomUUID();
  const won = await retryWhileUnavailable(async () => {
    try {
      await SendClaim.collection.insertOne({ _id: id, at, attempt, owner } as never);
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const claim = (await SendClaim.collection.findOne({ _id: id } as never)) as SendClaimDoc | null;
      return claim?.owner === owner;
    }
  }, patienceMs);
  if (!won) return { won: false, previous: await findLedgerRow(key) };
  // Until this stamp is written no SMTP starts; a database outage here waits rather than failing the
  // attempt, because a retry that finds the claim without knowing its fate must record `unknown`.
  await retryWhileUnavailable(() => updateLedgerRow(key, { smtpStartedAt: at, attempt }), patienceMs);
  return { won: true, previous: row };
}

/**
 * When the current generation of a pending row was claimed (the SMTP hand-off may have started), or
 * null. A row whose claim exists but whose `smtpStartedAt` is not set yet belongs to an attempt that is
 * about to send or crashed right before: either way a retry must not send again.
 */
export async function ledgerClaimedAt(row: Pick<SendDoc, 'key' | 'releases' | 'smtpStartedAt'>): Promise<Date | null> {
  if (row.smtpStartedAt) return new Date(row.smtpStartedAt);
  const claim = (await SendClaim.collection.findOne({ _id: claimId(row) } as never)) as SendClaimDoc | null;
  return claim ? new Date(claim.at) : null;
}

/** Gives a claimed row back after a failure that proves nothing was delivered (the next attempt claims the next generation). */
export async function releaseLedgerClaim(row: Pick<SendDoc, 'key' | 'releases'>, set: Partial<SendDoc>): Promise<void> {
  await updateLedgerRow(row.key, { ...set, smtpStartedAt: null, releases: (row.releases ?? 0) + 1 });
}

/** Sets fields of a row by key (completion, failure, claim release: only the claim holder writes these). */
export async function updateLedgerRow(key: string, set: Partial<SendDoc>): Promise<void> {
  await Send.collection.updateOne({ _id: key } as never, { $set: set });
}

/**
 * Closes a pending row whose SMTP outcome is unknown as `sent`, unless it was completed meanwhile: the
 * write is keyed by `_id` and its pre-image says what it replaced; a row that was no longer pending is
 * put back as it was. Returns the row as it stands.
 */
export async function closePendingRow(key: string, set: Partial<SendDoc>): Promise<SendDoc | null> {
  const previous = (await Send.collection.findOneAndUpdate({ _id: key } as never, { $set: set }, { returnDocument: 'before', includeResultMetadata: false })) as SendDoc | null;
  if (!previous) return null;
  if (previous.status === 'pending') return { ...previous, ...set };
  const restore: Partial<SendDoc> = {};
  for (const field of Object.keys(set) as (keyof SendDoc)[]) (restore as Record<string, unknown>)[field] = previous[field] ?? null;
  await updateLedgerRow(key, restore);
  return previous;
}

/** The ledger row for a Message-ID (with or without angle brackets), for bounce and complaint correlation. */
export async function findSendByMessageId(messageId: string): Promise<SendDoc | null> {
  const bare = messageId.trim().replace(/^<|>$/g, '');
  const ref = (await SendRef.collection.findOne({ _id: `<${bare}>` } as never)) as SendRefDoc | null;
  if (ref) return findLedgerRow(ref.key);
  // A row written without its reference (rows of tests and tools that write the model directly): the
  // slow path, by the messageId index; an unknown Message-ID (a foreign bounce) ends here too.
  return Send.findOne({ messageId: `<${bare}>` }).lean<SendDoc>().exec();
}

/**
 * Moves ledger rows written before the keyed layout (ObjectId `_id`, unique index `key_1`) to `_id` = key,
 * and gives every row its Message-ID reference. Idempotent and safe to re-run after a crash: a copy is
 * inserted before its original is deleted, and duplicates of either are ignored. Run at start-up.
 */
export async function migrateSendLedger(opts: { batch?: number } = {}): Promise<{ moved: number }> {
  const coll = Send.collection;
  const batch = opts.batch ?? 1000;
  const indexes = await coll.indexes().catch(() => [] as { name?: string; unique?: boolean }[]);
  // The old unique index on `key` would refuse the copy while its original still exists.
  if (indexes.some((i) => i.name === 'key_1')) await coll.dropIndex('key_1');
  let moved = 0;
  for (;;) {
    const old = (await coll.find({ _id: { $type: 'objectId' } } as never).limit(batch).toArray()) as unknown as (Omit<SendDoc, '_id'> & { _id: mongoose.Types.ObjectId })[];
    if (!old.length) break;
    const copies = old.map(({ _id: _old, ...row }) => ({ ...row, _id: row.key }));
    await coll.insertMany(copies as never[], { ordered: false }).catch((err: unknown) => {
      if (!onlyDuplicateKeys(err)) throw err;
    });
    await SendRef.collection.insertMany(old.map((r) => ({ _id: r.messageId, key: r.key })) as never[], { ordered: false }).catch((err: unknown) => {
      if (!onlyDuplicateKeys(err)) throw err;
    });
    await coll.deleteMany({ _id: { $in: old.map((r) => r._id) } } as never);
    moved += old.length;
  }
  return { moved };
}

/**
 * Owner tasks: what a journey's `task` step asks a contact's owner to do ("call the customer", "fix the
 * phone number"), with why, a due date and the contact it is about. `_id` is derived from the step's
 * ledger-style key (run scope, step, iteration), so a retried activity creates the task once: the insert
 * is the idempotency (a duplicate key answers "already created"), never a read-then-write.
 *
 * Closing is a compare-and-set from `open` to `done` keyed by `_id`; the `task.completed` event it leads
 * to has a deterministic id (engine/ingest.ts deduplicates), so two concurrent closes announce it once.
 * Listing pages by `_id` (not a hot path: people read their task lists; filters by owner and status).
 */
import crypto from 'node:crypto';
import mongoose, { Schema, type Model } from 'mongoose';
import { isDuplicateKey } from './duplicate-key';

export type TaskStatus = 'open' | 'done';

/** How the owner was told: the email's send outcome and the webhook call's, each null when not asked for. */
export interface TaskNotified { email: string | null; webhook: string | null }

export interface TaskDoc {
  _id: string;
  /** The step's key: `${run scope}:${stepId}:${iteration}`. */
  key: string;
  contactId: string;
  ownerId: string | null;
  journeyId: string;
  stepId: string;
  title: string;
  why: string;
  due: Date;
  status: TaskStatus;
  createdAt: Date;
  closedAt: Date | null;
  /** Free text of the person who closed it (what was done), at most 1,000 characters. */
  resolution: string | null;
  notified: TaskNotified;
}

const taskSchema = new Schema<TaskDoc>(
  {
    _id: { type: String, required: true },
    key: { type: String, required: true },
    contactId: { type: String, required: true },
    ownerId: { type: String, default: null },
    journeyId: { type: String, required: true },
    stepId: { type: String, required: true },
    title: { type: String, required: true },
    why: { type: String, default: '' },
    due: { type: Date, required: true },
    status: { type: String, enum: ['open', 'done'], required: true },
    createdAt: { type: Date, required: true },
    closedAt: { type: Date, default: null },
    resolution: { type: String, default: null },
    notified: { type: Schema.Types.Mixed, default: () => ({ email: null, webhook: null }) },
  },
  { collection: 'tasks', versionKey: false, minimize: false },
);

export const TaskModel: Model<TaskDoc> = (mongoose.models.Task as Model<TaskDoc> | undefined) ?? mongoose.model<TaskDoc>('Task', taskSchema);

/** The task id of a step key: short, URL-safe, stable (the same key always names the same task). */
export function taskIdFor(key: string): string {
  return `t_${crypto.createHash('sha256').update(`task/v1\0${key}`).digest('base64url').slice(0, 22)}`;
}

export const TASK_ID_RE = /^t_[A-Za-z0-9_-]{22}$/;

export type NewTask = Omit<TaskDoc, '_id' | 'status' | 'closedAt' | 'resolution' | 'notified' | 'createdAt'> & { createdAt: Date };

/** Inserts the task keyed by its step key; `created: false` when an earlier attempt already did. */
export async function createTask(t: NewTask): Promise<{ task: TaskDoc; created: boolean }> {
  const doc: TaskDoc = { ...t, _id: taskIdFor(t.key), status: 'open', closedAt: null, resolution: null, notified: { email: null, webhook: null } };
  try {
    await TaskModel.collection.insertOne(doc as never);
    return { task: doc, created: true };
  } catch (err) {
    if (!isDuplicateKey(err)) throw err;
    return { task: (await getTask(doc._id)) as TaskDoc, created: false };
  }
}

export async function getTask(id: string): Promise<TaskDoc | null> {
  if (!TASK_ID_RE.test(id)) return null;
  return TaskModel.findById(id).lean<TaskDoc>().exec();
}

/** Records how the owner was notified (by `_id`). */
export async function markTaskNotified(id: string, channel: keyof TaskNotified, outcome: string): Promise<void> {
  await TaskModel.collection.updateOne({ _id: id } as never, { $set: { [`notified.${channel}`]: outcome } });
}

/**
 * Closes an open task. `closed`: this call closed it; `already`: it was done before (the answer of a
 * retried close); null: no such task.
 */
export async function closeTask(id: string, resolution: string | null, at: Date): Promise<{ task: TaskDoc; closed: boolean } | null> {
  const res = await TaskModel.collection.updateOne({ _id: id, status: 'open' } as never, { $set: { status: 'done', closedAt: at, resolution } });
  const task = await getTask(id);
  if (!task) return null;
  return { task, closed: res.modifiedCount === 1 };
}

/** A page of tasks by `_id`, optionally of one owner, contact or status. */
export async function listTasks(opts: { limit: number; after?: string; ownerId?: string; contactId?: string; status?: TaskStatus }): Promise<TaskDoc[]> {
  const filter: Record<string, unknown> = {};
  if (opts.after) filter._id = { $gt: opts.after };
  if (opts.ownerId) filter.ownerId = opts.ownerId;
  if (opts.contactId) filter.contactId = opts.contactId;
  if (opts.status) filter.status = opts.status;
  return TaskModel.find(filter).sort({ _id: 1 }).limit(opts.limit).lean<TaskDoc[]>().exec();
}

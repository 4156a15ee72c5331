/**
 * The journey `task` step's side effects: a task for the contact's owner, and the owner's email.
 *
 * Delivery guarantee: the task exists once per run, step and iteration (its `_id` is derived from that
 * key and created by an insert, so a retried activity finds it instead of making a second one); the
 * owner's email goes through Delivery's send path (activities/messaging.ts) under the ledger key
 * `${task key}:owner`, so it is sent exactly once, or at most once in the SMTP crash window, like every
 * email. The webhook notification, when the step asks for one, is the webhook step's own activity
 * (called by the workflow after this one, with its retries and idempotency key).
 *
 * No owner (the contact has none, or no such owner record): the task is still created, unassigned
 * (`ownerId` null or the unknown id), listed under GET /v1/tasks, and the outcome says why nobody was
 * emailed. Only ids and codes go back to the workflow: never a name, address or the task text.
 */
import type { ContactStore } from './contact-store';
import type { SendResult } from './types';
import { createTask, markTaskNotified, type TaskDoc } from '../data/tasks';
import { getOwner, type OwnerDoc } from '../data/owners';

export interface TaskStepInput {
  /** `${run scope}:${stepId}:${iteration}`. */
  key: string;
  workflowId: string;
  contactId: string;
  journeyId: string;
  stepId: string;
  title: string;
  why: string;
  dueMs: number;
  /** Tell the owner by email. */
  email: boolean;
  /** The workflow's time (ISO): the task's creation time, from which `due` counts. */
  now: string;
}

export type TaskStepResult =
  | { outcome: 'created' | 'existed'; taskId: string; ownerId: string | null; email: 'sent' | 'duplicate' | 'unknown' | 'failed' | 'not_asked' | 'no_owner' }
  | { outcome: 'contact_gone' };

/** What the owner's email needs: the task, the owner and the customer's name (read in the activity). */
export interface OwnerNotice { task: TaskDoc; owner: OwnerDoc; customer: { id: string; firstName: string | null; lastName: string | null }; workflowId: string }

/** Sends the owner's email (worker/send-activities.ts builds it over the messaging activity). */
export type OwnerEmailNotifier = (notice: OwnerNotice) => Promise<SendResult>;

export interface TaskStepActivities {
  createOwnerTask(input: TaskStepInput): Promise<TaskStepResult>;
}

export interface TaskStepDeps {
  contacts: Pick<ContactStore, 'getContactView'>;
  notifyByEmail: OwnerEmailNotifier;
}

export function createTaskStepActivities(deps: TaskStepDeps): TaskStepActivities {
  return {
    async createOwnerTask(input) {
      const contact = await deps.contacts.getContactView(input.contactId);
      if (!contact) return { outcome: 'contact_gone' };
      const createdAt = new Date(input.now);
      const { task, created } = await createTask({
        key: input.key, contactId: input.contactId, ownerId: contact.owner, journeyId: input.journeyId, stepId: input.stepId,
        title: input.title, why: input.why, due: new Date(createdAt.getTime() + input.dueMs), createdAt,
      });
      const base = { outcome: created ? 'created' as const : 'existed' as const, taskId: task._id, ownerId: task.ownerId };
      if (!input.email) return { ...base, email: 'not_asked' };
      const owner = task.ownerId ? await getOwner(task.ownerId) : null;
      if (!owner) {
        await markTaskNotified(task._id, 'email', 'no_owner');
        return { ...base, email: 'no_owner' };
      }
      const sent = await deps.notifyByEmail({ task, owner, customer: { id: contact.id, firstName: contact.firstName, lastName: contact.lastName }, workflowId: input.workflowId });
      const email = sent.status;
      await markTaskNotified(task._id, 'email', email);
      return { ...base, email };
    },
  };
}

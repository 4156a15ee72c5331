/**
 * The activities the journey workflow calls, proxied with their timeouts and retry policies. Types flow
 * from the activity factories (type-only imports: nothing of activities/ is bundled into workflows).
 * No policy has an attempt limit: a run never ends `Failed` because a server was down; it waits at its
 * step and goes on when the server is back. The table in docs/engine.md ("Retries") says what each
 * policy retries, for how long and what happens after.
 */
import { isCancellation, patched, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { JourneyActivities } from '../activities/journeys';
import type { ContactActivities } from '../activities/contacts';
import type { GateActivities } from '../activities/gate';
import type { SendTimeActivities } from '../activities/send-time';
import type { SendActivities } from '../activities/send';
import type { SendEmailInput, SendResult } from '../activities/types';
import type { WebhookStepActivities } from '../activities/webhook-step';
import type { TaskStepActivities } from '../activities/task-step';

/**
 * Reads, gate decisions and contact updates: one or two single-document operations each, so 10 s is
 * generous, and a worker that dies mid-activity is noticed (and the activity retried) within 10 s.
 * Retried every 1 s doubling to 30 s, without limit (the database may be down for a while).
 */
const DATA_OPTIONS = {
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
} as const;
type DataActivities = JourneyActivities & ContactActivities & GateActivities & SendTimeActivities;
const remoteData = proxyActivities<DataActivities>(DATA_OPTIONS);

/**
 * The same activities run as local activities: the worker runs them inside the workflow task and the
 * server records one marker event each, instead of scheduling an activity task (three history events,
 * a matching round trip and a second workflow task per call). They are single-document reads and
 * idempotent writes that take milliseconds, which is what local activities are for (decision 36); the
 * retry policy is the same, and past 30 s of failures the SDK backs off with a server timer, so a
 * database outage still only holds the run at its step.
 */
const localData = proxyLocalActivities<DataActivities>({ ...DATA_OPTIONS, localRetryThreshold: '30 seconds' });

/** Patch id: runs from before decision 36 recorded these calls as activity tasks and replay them as such. */
export const LOCAL_DATA_PATCH = 'local-data-activities';

/** The data activities for this point of the run: local ones, unless the history recorded remote ones. */
export function data(): DataActivities {
  return patched(LOCAL_DATA_PATCH) ? localData : remoteData;
}

/**
 * Sends: the ledger key makes a retry safe. The activity heartbeats every 2 s, so a worker that dies
 * during the SMTP hand-off is noticed within 10 s, while a slow relay (answering after 30 s and more)
 * still has 2 minutes. Connection failures and 4xx are retried every 2 s doubling to 1 minute; the
 * activity itself stops after SEND_RETRY_HOURS (24 h) from its first attempt and returns `failed`
 * (a soft bounce). 5xx is not an exception at all: it returns `failed` (a bounce) at once.
 */
export const send = proxyActivities<SendActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/**
 * The first attempt of a send as a local activity (decision 46): the worker runs it inside the workflow
 * task, so the common case (the relay takes the message) costs one marker event instead of an activity
 * task's three events, its matching round trip and a second workflow task. It is tried once: if it
 * fails (relay down or refusing with 4xx, a timeout), the send goes on as the activity task above, whose
 * retries and last failure `sojourn status` and the Temporal UI show. A worker that dies during the local
 * attempt is noticed by the workflow task timeout; the next worker replays and tries again, and the
 * ledger (key, claim) keeps that at most once, as for a retried activity task.
 */
const localSend = proxyLocalActivities<SendActivities>({ startToCloseTimeout: '2 minutes', retry: { maximumAttempts: 1 } });

/** Patch id: runs from before decision 46 recorded every send as an activity task and replay it as such. */
export const LOCAL_SEND_PATCH = 'local-send-first-attempt';

/** Sends through the ledger: a local first attempt, then the retried activity task (see `localSend`). */
export async function deliver(input: SendEmailInput): Promise<SendResult> {
  if (!patched(LOCAL_SEND_PATCH)) return send.sendEmail(input);
  try {
    return await localSend.sendEmail(input);
  } catch (err) {
    // A local activity's failure arrives as the activity's own error (not wrapped in ActivityFailure).
    if (isCancellation(err)) throw err;
  }
  return send.sendEmail({ ...input, priorAttempts: 1 });
}

/**
 * Journey webhook calls: 10 s per request plus margin; 5xx, 408, 429 and network failures throw and are
 * retried every 2 s doubling to 5 minutes; the activity returns `failed` (gave_up) itself once
 * WEBHOOK_RETRY_HOURS have passed since the first attempt, and at once on other 4xx. Every attempt
 * carries the same Idempotency-Key.
 */
export const hooks = proxyActivities<WebhookStepActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', backoffCoefficient: 2 },
});

/**
 * The task step: creating the task is one keyed insert and the owner's email one send through the ledger
 * (each idempotent), so the activity is retried like a send: 2 s doubling to 1 minute, no attempt limit.
 */
export const tasks = proxyActivities<TaskStepActivities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

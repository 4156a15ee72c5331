/**
 * The activities the journey workflow calls, proxied with their timeouts and retry policies. Types flow
 * from the activity factories (type-only imports: nothing of activities/ is bundled into workflows).
 * No policy has an attempt limit: a run never ends `Failed` because a server was down; it waits at its
 * step and goes on when the server is back. The table in docs/engine.md ("Retries") says what each
 * policy retries, for how long and what happens after.
 */
import { proxyActivities } from '@temporalio/workflow';
import type { JourneyActivities } from '../activities/journeys';
import type { ContactActivities } from '../activities/contacts';
import type { GateActivities } from '../activities/gate';
import type { SendTimeActivities } from '../activities/send-time';
import type { SendActivities } from '../activities/send';
import type { WebhookStepActivities } from '../activities/webhook-step';

/**
 * Reads, gate decisions and contact updates: one or two single-document operations each, so 10 s is
 * generous, and a worker that dies mid-activity is noticed (and the activity retried) within 10 s.
 * Retried every 1 s doubling to 30 s, without limit (the database may be down for a while).
 */
export const data = proxyActivities<JourneyActivities & ContactActivities & GateActivities & SendTimeActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', backoffCoefficient: 2 },
});

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
 * Journey webhook calls: 10 s per request plus margin; 5xx, 408, 429 and network failures throw and are
 * retried every 2 s doubling to 5 minutes; the activity returns `failed` (gave_up) itself once
 * WEBHOOK_RETRY_HOURS have passed since the first attempt, and at once on other 4xx. Every attempt
 * carries the same Idempotency-Key.
 */
export const hooks = proxyActivities<WebhookStepActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumInterval: '5 minutes', backoffCoefficient: 2 },
});

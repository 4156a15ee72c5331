/**
 * The activities the journey workflow calls, proxied with their timeouts and retry policies. Types flow
 * from the activity factories (type-only imports: nothing of activities/ is bundled into workflows).
 */
import { proxyActivities } from '@temporalio/workflow';
import type { JourneyActivities } from '../activities/journeys';
import type { ContactActivities } from '../activities/contacts';
import type { GateActivities } from '../activities/gate';
import type { SendActivities } from '../activities/send';

/** Reads and gate decisions: quick, retried with backoff up to a minute apart, forever (the data layer may be down). */
export const data = proxyActivities<JourneyActivities & ContactActivities & GateActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '1 minute', backoffCoefficient: 2 },
});

/** Sends: the ledger key makes a retry safe, so retry, but give SMTP more time. */
export const send = proxyActivities<SendActivities>({
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '5 seconds', maximumInterval: '5 minutes', backoffCoefficient: 2, maximumAttempts: 20 },
});

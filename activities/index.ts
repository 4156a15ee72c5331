/**
 * All activities of the engine, built from their dependencies. `buildWorker` registers these; tests
 * pass real dependencies (test database, test Temporal client) and override single activities if needed.
 */
import type { Client } from '@temporalio/client';
import { dataLayerContactStore, type ContactStore } from './contact-store';
import { createClassifyActivities } from './classify';
import { createContactActivities } from './contacts';
import { createGateActivities } from './gate';
import { createJourneyActivities } from './journeys';
import { createScanActivities } from './scan';
import { createSendTimeActivities } from './send-time';
import { createLedgerOnlySendActivities, type SendActivities } from './send';
import { createWebhookStepActivities, type WebhookStepActivities } from './webhook-step';
import { createTaskStepActivities, type TaskStepActivities } from './task-step';
import { createOwnerEmailNotifier } from './owner-email';
import { loadConfig } from '../lib/config';
import { countedGate, countedSend } from './report-facts';

export interface EngineActivityDeps {
  /** Needed by scans (they start runs). */
  client?: Client;
  taskQueue: string;
  contacts?: ContactStore;
  /** Delivery's sendEmail (production, scenarios, e2e: worker/send-activities.ts); the engine's own tests and bench default to the ledger-only send, which records the message without SMTP. */
  send?: SendActivities;
  /** The webhook step's call; default: built from the environment's configuration on first use. */
  webhooks?: WebhookStepActivities;
  /** The task step (task + owner email); default: the owner's email over the environment's SMTP relay, built on first use. */
  tasks?: TaskStepActivities;
}

/** The task step over the environment's configuration (SMTP relay, templates), built when the first task is made. */
function lazyTaskStep(contacts: ContactStore): TaskStepActivities {
  let built: TaskStepActivities | null = null;
  return {
    createOwnerTask: (input) => (built ??= createTaskStepActivities({ contacts, notifyByEmail: createOwnerEmailNotifier({ config: loadConfig() }) })).createOwnerTask(input),
  };
}

/** The webhook step over the environment's configuration, read when the first call happens (not at import). */
function lazyWebhookStep(contacts: ContactStore): WebhookStepActivities {
  let built: WebhookStepActivities | null = null;
  return {
    callWebhook: (input) => (built ??= createWebhookStepActivities({ contacts, config: loadConfig().stepWebhooks })).callWebhook(input),
  };
}

export function createEngineActivities(deps: EngineActivityDeps) {
  const contacts = deps.contacts ?? dataLayerContactStore();
  return {
    ...createJourneyActivities(),
    ...createContactActivities({ contacts }),
    ...createSendTimeActivities(),
    // Gate decisions and sends are counted for reports in the same activity (activities/report-facts.ts).
    ...countedGate(createGateActivities({ contacts })),
    ...countedSend(deps.send ?? createLedgerOnlySendActivities()),
    ...(deps.webhooks ?? lazyWebhookStep(contacts)),
    // The daily classification pass (workflows/classify-scan.ts).
    ...createClassifyActivities(),
    ...(deps.tasks ?? lazyTaskStep(contacts)),
    ...(deps.client ? createScanActivities({ client: deps.client, taskQueue: deps.taskQueue }) : {}),
  };
}

export type EngineActivities = ReturnType<typeof createEngineActivities>;

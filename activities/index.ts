/**
 * All activities of the engine, built from their dependencies. `buildWorker` registers these; tests
 * pass real dependencies (test database, test Temporal client) and override single activities if needed.
 */
import type { Client } from '@temporalio/client';
import { dataLayerContactStore, type ContactStore } from './contact-store';
import { createContactActivities } from './contacts';
import { createGateActivities } from './gate';
import { createJourneyActivities } from './journeys';
import { createScanActivities } from './scan';
import { createLedgerOnlySendActivities, type SendActivities } from './send';

export interface EngineActivityDeps {
  /** Needed by scans (they start runs). */
  client?: Client;
  taskQueue: string;
  contacts?: ContactStore;
  /** Delivery's sendEmail (production, scenarios, e2e: worker/send-activities.ts); the engine's own tests and bench default to the ledger-only send, which records the message without SMTP. */
  send?: SendActivities;
}

export function createEngineActivities(deps: EngineActivityDeps) {
  const contacts = deps.contacts ?? dataLayerContactStore();
  return {
    ...createJourneyActivities(),
    ...createContactActivities({ contacts }),
    ...createGateActivities({ contacts }),
    ...(deps.send ?? createLedgerOnlySendActivities()),
    ...(deps.client ? createScanActivities({ client: deps.client, taskQueue: deps.taskQueue }) : {}),
  };
}

export type EngineActivities = ReturnType<typeof createEngineActivities>;

/**
 * The ingest over the real dispatcher: every event (API, public endpoints, bounces, the demo, scenario
 * tests) goes through one door, the ingest (engine/ingest.ts): stored once by event id, dispatched to the
 * runs by the dispatcher (engine/dispatch.ts) with the webhook fan-out, marked dispatched.
 */
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { createWebhooks } from '../data/webhooks';
import { createEventDispatcher } from './dispatch';
import { createIngest, type Ingest, type IngestDeps } from './ingest';
import { withWebhookFanout } from './webhook-fanout';

/** The ingest over the real dispatcher for this Temporal client and task queue. */
export function createEngineIngest(client: Client, taskQueue: string, opts: Omit<IngestDeps, 'dispatcher'> & { log?: Logger } = {}): Ingest {
  return createIngest({ ...opts, dispatcher: withWebhookFanout(createEventDispatcher({ client, taskQueue }), createWebhooks()) });
}

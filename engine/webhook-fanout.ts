/**
 * Where webhooks meet the one event door: the ingest's dispatch step first fans the event out to the
 * subscribed webhooks (data/webhooks.ts `enqueue`, idempotent by `${webhookId}:${eventId}`), then hands
 * it to the engine. The ingest marks an event dispatched only after both succeeded, and its outbox
 * retries it otherwise, so every stored event reaches the webhooks at least once, from every source
 * (API, public endpoints, bounce reports), whether or not the engine was up.
 */
import type { EventDispatcher, SojournEvent } from './ingest';
import type { Webhooks } from '../data/webhooks';

export function withWebhookFanout(engine: EventDispatcher | null, webhooks: Pick<Webhooks, 'enqueue'>): EventDispatcher {
  return {
    async dispatch(e: SojournEvent) {
      await webhooks.enqueue(e);
      return engine ? engine.dispatch(e) : undefined;
    },
  };
}

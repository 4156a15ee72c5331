/**
 * Webhooks repository: register, list, remove; fan an event out to the webhooks that subscribed to
 * its name; page a webhook's deliveries; replay one. Delivery itself is engine/webhook-delivery.ts.
 *
 * Delivery guarantee: at least once per (webhook, event). `enqueue` is idempotent (inserts keyed by
 * `_id` = `${webhookId}:${eventId}`) and is called by the event ingest before the event is marked
 * dispatched, so a crash or failure in between makes the ingest's outbox call it again. Receivers
 * dedupe by the event id (`Sojourn-Event-Id` header and the body's `id`), which stays the same on every
 * retry and replay.
 */
import { randomBytes } from 'node:crypto';
import { isDuplicateKey } from './duplicate-key';
import {
  WebhookDeliveryModel, WebhookModel, WebhookQueueModel,
  type WebhookDeliveryDoc, type WebhookDoc, type WebhookPayload,
} from './webhook-model';

/** The event as the ingest stores it (a subset of data/contact-event-model.ts). */
export interface WebhookEvent { eventId: string; contactId: string; name: string; at: Date | string; data?: Record<string, unknown>; machine?: boolean }

export interface WebhookDeps {
  now?: () => Date;
  /** How long the subscription list is cached per process (default 5 s); a change made in the process clears it. */
  cacheMs?: number;
}

export type Webhooks = ReturnType<typeof createWebhooks>;

const newId = (prefix: string) => `${prefix}_${randomBytes(12).toString('hex')}`;

/**
 * Active webhooks, cached per process (shared by every instance, so a registration through the API
 * is seen by the ingest of the same process at once; another process sees it within `cacheMs`).
 */
let cache: { at: number; hooks: WebhookDoc[] } | null = null;

export function createWebhooks(deps: WebhookDeps = {}) {
  const now = deps.now ?? (() => new Date());
  const cacheMs = deps.cacheMs ?? 5_000;

  async function subscriptions(): Promise<WebhookDoc[]> {
    if (!cache || Date.now() - cache.at > cacheMs) cache = { at: Date.now(), hooks: await WebhookModel.find({ active: true }).lean<WebhookDoc[]>().exec() };
    return cache.hooks;
  }

  async function register(input: { url: string; events: string[]; description?: string }): Promise<WebhookDoc> {
    const doc: WebhookDoc = { _id: newId('wh'), url: input.url, events: [...new Set(input.events)], secret: `whsec_${randomBytes(32).toString('hex')}`, description: input.description ?? null, active: true, createdAt: now() };
    await WebhookModel.collection.insertOne(doc as never);
    cache = null;
    return doc;
  }

  async function list(): Promise<WebhookDoc[]> {
    return WebhookModel.find({}).sort({ _id: 1 }).lean<WebhookDoc[]>().exec();
  }

  async function get(id: string): Promise<WebhookDoc | null> {
    return WebhookModel.findById(id).lean<WebhookDoc>().exec();
  }

  /** Removes a webhook; its pending deliveries are dropped by the worker when it meets them. */
  async function remove(id: string): Promise<boolean> {
    const r = await WebhookModel.deleteOne({ _id: id });
    cache = null;
    return r.deletedCount === 1;
  }

  /** Makes sure a pending delivery is in the queue (a crash may have come between the two inserts). */
  async function queue(id: string, webhookId: string, at: Date): Promise<void> {
    await WebhookQueueModel.collection.insertOne({ _id: id, webhookId, nextAttemptAt: at, attempts: 0 } as never).catch((err: unknown) => {
      if (!isDuplicateKey(err)) throw err;
    });
  }

  /**
   * Fans an event out to every active webhook subscribed to its name (or `*`). Idempotent: an event
   * fanned out again creates nothing new, and re-queues only a delivery that is still pending.
   * Machine opens and clicks are not sent.
   */
  async function enqueue(e: WebhookEvent): Promise<number> {
    if (e.machine || e.data?.machine === true) return 0;
    const hooks = (await subscriptions()).filter((h) => h.events.includes(e.name) || h.events.includes('*'));
    const at = now();
    const payload: WebhookPayload = { id: e.eventId, type: e.name, occurredAt: new Date(e.at).toISOString(), contactId: e.contactId, data: e.data ?? {} };
    for (const h of hooks) {
      const _id = `${h._id}:${e.eventId}`;
      const doc: WebhookDeliveryDoc = { _id, webhookId: h._id, eventId: e.eventId, event: e.name, payload, state: 'pending', attempts: 0, nextAttemptAt: at, lastStatus: null, lastError: null, createdAt: at, deliveredAt: null };
      try {
        await WebhookDeliveryModel.collection.insertOne(doc as never);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        const stored = await WebhookDeliveryModel.findById(_id, { state: 1 }).lean().exec();
        if (stored?.state !== 'pending') continue;
      }
      await queue(_id, h._id, at);
    }
    return hooks.length;
  }

  /** A webhook's deliveries in `_id` order (= event id order within the webhook), continued by `after`. */
  async function deliveries(webhookId: string, opts: { limit: number; after?: string }): Promise<{ deliveries: WebhookDeliveryDoc[]; next: string | null }> {
    const filter: Record<string, unknown> = { webhookId };
    if (opts.after) filter._id = { $gt: `${webhookId}:${opts.after}` };
    const docs = await WebhookDeliveryModel.find(filter).sort({ _id: 1 }).limit(opts.limit).lean<WebhookDeliveryDoc[]>().exec();
    return { deliveries: docs, next: docs.length === opts.limit ? docs[docs.length - 1].eventId : null };
  }

  /** Sends a delivery again (whatever its state), with the same event id; null: no such delivery. */
  async function replay(webhookId: string, eventId: string): Promise<WebhookDeliveryDoc | null> {
    const _id = `${webhookId}:${eventId}`;
    const at = now();
    const r = await WebhookDeliveryModel.collection.findOneAndUpdate(
      { _id } as never,
      { $set: { state: 'pending', nextAttemptAt: at, lastError: null } },
      { returnDocument: 'after' },
    );
    if (!r) return null;
    await WebhookQueueModel.collection.updateOne({ _id } as never, { $set: { nextAttemptAt: at, attempts: 0 }, $setOnInsert: { webhookId } }, { upsert: true });
    return r as unknown as WebhookDeliveryDoc;
  }

  return { register, list, get, remove, enqueue, deliveries, replay };
}

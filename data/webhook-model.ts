/**
 * Outbound webhooks. `webhooks`: what an integrator registered (URL, event names, signing secret).
 * `webhook_deliveries`: one document per (webhook, event), `_id` = `${webhookId}:${eventId}`, so
 * fanning an event out twice stores it once; it keeps the state, attempts and last answer and is what
 * `GET /v1/webhooks/{id}/deliveries` shows. `webhook_queue`: the deliveries still to attempt (same
 * `_id`, removed once delivered or given up), so the delivery worker reads only what is in flight,
 * never the whole history.
 */
import mongoose, { Schema, type Model } from 'mongoose';

export interface WebhookDoc {
  _id: string;
  url: string;
  events: string[];
  secret: string;
  description: string | null;
  active: boolean;
  createdAt: Date;
}

export type DeliveryState = 'pending' | 'delivered' | 'failed';

/** What is POSTed (the JSON body), fixed when the event is fanned out. */
export interface WebhookPayload {
  id: string;
  type: string;
  occurredAt: string;
  contactId: string;
  data: Record<string, unknown>;
}

export interface WebhookDeliveryDoc {
  _id: string;
  webhookId: string;
  eventId: string;
  event: string;
  payload: WebhookPayload;
  state: DeliveryState;
  attempts: number;
  nextAttemptAt: Date | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: Date;
  deliveredAt: Date | null;
}

export interface WebhookQueueDoc {
  _id: string;
  webhookId: string;
  nextAttemptAt: Date;
  attempts: number;
}

const webhookSchema = new Schema<WebhookDoc>(
  {
    _id: { type: String, required: true },
    url: { type: String, required: true },
    events: { type: [String], required: true },
    secret: { type: String, required: true },
    description: { type: String, default: null },
    active: { type: Boolean, default: true },
    createdAt: { type: Date, required: true },
  },
  { collection: 'webhooks', strict: true, versionKey: false },
);

const deliverySchema = new Schema<WebhookDeliveryDoc>(
  {
    _id: { type: String, required: true },
    webhookId: { type: String, required: true },
    eventId: { type: String, required: true },
    event: { type: String, required: true },
    payload: { type: Schema.Types.Mixed, required: true },
    state: { type: String, enum: ['pending', 'delivered', 'failed'], required: true },
    attempts: { type: Number, default: 0 },
    nextAttemptAt: { type: Date, default: null },
    lastStatus: { type: Number, default: null },
    lastError: { type: String, default: null },
    createdAt: { type: Date, required: true },
    deliveredAt: { type: Date, default: null },
  },
  { collection: 'webhook_deliveries', strict: true, versionKey: false, minimize: false },
);
// The deliveries page of one webhook (MongoDB uses it; FerretDB/SQLite scans: a read by a person, not a hot path).
deliverySchema.index({ webhookId: 1, _id: 1 });

const queueSchema = new Schema<WebhookQueueDoc>(
  {
    _id: { type: String, required: true },
    webhookId: { type: String, required: true },
    nextAttemptAt: { type: Date, required: true },
    attempts: { type: Number, default: 0 },
  },
  { collection: 'webhook_queue', strict: true, versionKey: false },
);

export const WebhookModel: Model<WebhookDoc> = (mongoose.models.Webhook as Model<WebhookDoc> | undefined) ?? mongoose.model<WebhookDoc>('Webhook', webhookSchema);
export const WebhookDeliveryModel: Model<WebhookDeliveryDoc> =
  (mongoose.models.WebhookDelivery as Model<WebhookDeliveryDoc> | undefined) ?? mongoose.model<WebhookDeliveryDoc>('WebhookDelivery', deliverySchema);
export const WebhookQueueModel: Model<WebhookQueueDoc> =
  (mongoose.models.WebhookQueue as Model<WebhookQueueDoc> | undefined) ?? mongoose.model<WebhookQueueDoc>('WebhookQueue', queueSchema);

/**
 * The webhook delivery worker: POSTs the queued deliveries (data/webhooks.ts) to their URLs, signed
 * (lib/webhook-signature.ts), and retries failures with exponential backoff and jitter until
 * `maxAttempts`, after which the delivery is marked failed (it stays visible and can be replayed).
 *
 * Guarantee: at least once. A delivery is claimed by a compare-and-set on its queue entry (a lease),
 * POSTed, then marked; a crash after the POST and before the mark sends it again later, with the same
 * event id, which is how receivers recognise a duplicate. Only 2xx answers count as delivered.
 * Reads only the queue (what is in flight), in `_id` pages, never the delivery history.
 */
import type { Logger } from 'pino';
import { signPayload } from '../lib/webhook-signature';
import { WebhookDeliveryModel, WebhookModel, WebhookQueueModel, type WebhookDeliveryDoc, type WebhookDoc, type WebhookQueueDoc } from '../data/webhook-model';

export interface DeliveryOptions {
  now?: () => Date;
  /** First retry delay; doubles per attempt up to `backoffMaxMs` (defaults 10 s and 1 h). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Attempts before a delivery is marked failed (default 12, about a day with the defaults). */
  maxAttempts?: number;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** How long a claimed delivery is hidden from other sweeps while its POST runs (default 60 s). */
  leaseMs?: number;
  concurrency?: number;
  log?: Pick<Logger, 'warn' | 'info'>;
}

export interface DeliverySweep { due: number; delivered: number; failed: number; gaveUp: number }

/** base * 2^attempts, capped, with up to 20% jitter so many failing deliveries do not retry in step. */
export function backoffMs(attempts: number, base: number, max: number, random = Math.random): number {
  const d = Math.min(max, base * 2 ** Math.min(attempts, 30));
  return Math.round(d * (0.8 + 0.2 * random()));
}

export function createWebhookDelivery(opts: DeliveryOptions = {}) {
  const now = opts.now ?? (() => new Date());
  const base = opts.backoffBaseMs ?? 10_000;
  const max = opts.backoffMaxMs ?? 60 * 60_000;
  const maxAttempts = opts.maxAttempts ?? 12;
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const leaseMs = opts.leaseMs ?? 60_000;
  const concurrency = opts.concurrency ?? 8;

  async function post(hook: WebhookDoc, d: WebhookDeliveryDoc, attempt: number): Promise<{ ok: boolean; status: number | null; error: string | null }> {
    const body = JSON.stringify(d.payload);
    try {
      const res = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Sojourn-Webhooks/1',
          'sojourn-event-id': d.eventId,
          'sojourn-event': d.event,
          'sojourn-delivery-attempt': String(attempt),
          'sojourn-signature': signPayload(hook.secret, body, now()),
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
        redirect: 'manual',
      });
      await res.arrayBuffer().catch(() => undefined);
      return { ok: res.status >= 200 && res.status < 300, status: res.status, error: res.status >= 200 && res.status < 300 ? null : `HTTP ${res.status}` };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { ok: false, status: null, error: e.cause?.code ?? e.name ?? 'error' };
    }
  }

  async function attempt(q: WebhookQueueDoc, hooks: Map<string, WebhookDoc | null>, result: DeliverySweep): Promise<void> {
    // Claim: only the sweep whose compare-and-set matches sends it now.
    const claimed = await WebhookQueueModel.collection.updateOne({ _id: q._id, nextAttemptAt: q.nextAttemptAt } as never, { $set: { nextAttemptAt: new Date(now().getTime() + leaseMs) } });
    if (claimed.modifiedCount !== 1) return;
    result.due++;
    const d = await WebhookDeliveryModel.findById(q._id).lean<WebhookDeliveryDoc>().exec();
    if (!hooks.has(q.webhookId)) hooks.set(q.webhookId, await WebhookModel.findById(q.webhookId).lean<WebhookDoc>().exec());
    const hook = hooks.get(q.webhookId);
    if (!d || !hook || !hook.active) {
      await WebhookQueueModel.deleteOne({ _id: q._id });
      if (d) await WebhookDeliveryModel.updateOne({ _id: d._id }, { $set: { state: 'failed', nextAttemptAt: null, lastError: 'webhook removed' } });
      return;
    }
    const n = d.attempts + 1;
    const r = await post(hook, d, n);
    const at = now();
    if (r.ok) {
      await WebhookDeliveryModel.updateOne({ _id: d._id }, { $set: { state: 'delivered', attempts: n, lastStatus: r.status, lastError: null, deliveredAt: at, nextAttemptAt: null } });
      await WebhookQueueModel.deleteOne({ _id: q._id });
      result.delivered++;
      return;
    }
    result.failed++;
    if (n >= maxAttempts) {
      await WebhookDeliveryModel.updateOne({ _id: d._id }, { $set: { state: 'failed', attempts: n, lastStatus: r.status, lastError: r.error, nextAttemptAt: null } });
      await WebhookQueueModel.deleteOne({ _id: q._id });
      result.gaveUp++;
      opts.log?.warn({ webhookId: hook._id, eventId: d.eventId, attempts: n }, 'webhook delivery given up');
      return;
    }
    const next = new Date(at.getTime() + backoffMs(n - 1, base, max));
    await WebhookDeliveryModel.updateOne({ _id: d._id }, { $set: { attempts: n, lastStatus: r.status, lastError: r.error, nextAttemptAt: next } });
    await WebhookQueueModel.updateOne({ _id: q._id }, { $set: { nextAttemptAt: next, attempts: n } });
  }

  /** One pass over the queue: every due delivery is attempted once. */
  async function sweep(pageSize = 200): Promise<DeliverySweep> {
    const result: DeliverySweep = { due: 0, delivered: 0, failed: 0, gaveUp: 0 };
    const hooks = new Map<string, WebhookDoc | null>();
    let after: string | null = null;
    for (;;) {
      const page: WebhookQueueDoc[] = await WebhookQueueModel.find(after ? { _id: { $gt: after } } : {}).sort({ _id: 1 }).limit(pageSize).lean<WebhookQueueDoc[]>().exec();
      if (!page.length) break;
      after = page[page.length - 1]._id;
      const due = page.filter((q) => new Date(q.nextAttemptAt).getTime() <= now().getTime());
      for (let i = 0; i < due.length; i += concurrency) await Promise.all(due.slice(i, i + concurrency).map((q) => attempt(q, hooks, result)));
      if (page.length < pageSize) break;
    }
    return result;
  }

  return { sweep };
}

/** Runs `sweep` every `intervalMs` (default 1 s) until stopped; a failed sweep is logged and retried. */
export function startWebhookDelivery(opts: DeliveryOptions & { intervalMs?: number } = {}): { stop(): Promise<void> } {
  const worker = createWebhookDelivery(opts);
  const interval = opts.intervalMs ?? 1_000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    running = worker
      .sweep()
      .catch((err: unknown) => opts.log?.warn({ err: (err as Error).message }, 'webhook delivery sweep failed'))
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, interval);
      });
  };
  timer = setTimeout(tick, 0);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

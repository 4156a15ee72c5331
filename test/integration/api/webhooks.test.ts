/**
 * Outbound webhooks against a real HTTP receiver on loopback: events recorded through the API reach
 * the receiver signed; while the receiver is down for 30 s deliveries are retried with backoff; when
 * it comes back every event arrives; a replay (a duplicate) carries the same event id.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { useApiServer } from './api-server';
import { createIngest } from '../../../engine/ingest';
import { withWebhookFanout } from '../../../engine/webhook-fanout';
import { startWebhookDelivery } from '../../../engine/webhook-delivery';
import { createWebhooks } from '../../../data/webhooks';
import { verifySignature } from '../../../lib/webhook-signature';
import { createContacts } from '../../../data/contacts';
import { TEST_KEYS } from '../contacts/setup';

jest.setTimeout(180_000);

interface Received { eventId: string; type: string; attempt: number; signatureOk: boolean; body: { id: string; type: string; contactId: string } }

/** A receiver that records every POST and answers 204; `stop` closes it (connections refused). */
function receiver(port = 0) {
  const got: Received[] = [];
  let secret = '';
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      const body = JSON.parse(raw);
      got.push({
        eventId: String(req.headers['sojourn-event-id']),
        type: String(req.headers['sojourn-event']),
        attempt: Number(req.headers['sojourn-delivery-attempt']),
        signatureOk: verifySignature(secret, raw, req.headers['sojourn-signature'] as string).ok,
        body,
      });
      res.writeHead(204).end();
    });
  });
  return {
    got,
    setSecret: (s: string) => (secret = s),
    start: () => new Promise<number>((resolve) => server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port))),
    stop: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

const until = async (what: string, ok: () => boolean, ms: number) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('outbound webhooks', () => {
  const webhooks = createWebhooks();
  const contacts = createContacts(TEST_KEYS);
  const ingest = createIngest({ dispatcher: withWebhookFanout(null, webhooks), contacts, dispatchWaitMs: 5_000 });
  const api = useApiServer('api_webhooks', { ingest: ingest.ingest, contacts });
  let delivery: { stop(): Promise<void> } | null = null;
  afterAll(async () => delivery?.stop());

  it('delivers every event, signed, after the receiver was down for 30 s, and a duplicate carries the same event id', async () => {
    const r1 = receiver();
    const port = await r1.start();
    const hook = await api.call('POST', '/v1/webhooks', { url: `http://127.0.0.1:${port}/hooks`, events: ['email.bounced', 'email.unsubscribed'] });
    expect(hook.status).toBe(201);
    const { id: webhookId, secret } = hook.json();
    expect(secret).toMatch(/^whsec_[0-9a-f]{64}$/);
    r1.setSecret(secret);
    expect((await api.call('GET', `/v1/webhooks/${webhookId}`)).json()).not.toHaveProperty('secret');

    delivery = startWebhookDelivery({ intervalMs: 200, backoffBaseMs: 1_000, backoffMaxMs: 4_000, maxAttempts: 100, timeoutMs: 2_000 });
    const people = [];
    for (const n of [1, 2, 3]) people.push((await api.call('POST', '/v1/contacts', { email: `hook${n}@example.com` })).json().id as string);
    const send = async (eventId: string, contactId: string, name: string, data: Record<string, unknown> = {}) => {
      const r = await api.call('POST', '/v1/events', { eventId, contactId, name, data });
      expect([200, 202]).toContain(r.status);
    };

    // Up: the first event arrives, signed.
    await send('evt-1', people[0], 'email.bounced', { type: 'soft' });
    await until('the first delivery', () => r1.got.length === 1, 20_000);
    expect(r1.got[0]).toMatchObject({ eventId: 'evt-1', type: 'email.bounced', attempt: 1, signatureOk: true, body: { id: 'evt-1', type: 'email.bounced', contactId: people[0] } });

    // Down for 30 s: events keep coming; deliveries fail and are retried with backoff.
    await r1.stop();
    const downAt = Date.now();
    const during = [
      ['evt-2', people[1], 'email.bounced', { type: 'soft' }],
      ['evt-3', people[2], 'email.unsubscribed', {}],
      ['evt-4', people[0], 'order.completed', { amount: 5 }], // not subscribed: never sent
      ['evt-5', people[1], 'email.unsubscribed', {}],
    ] as const;
    for (const [id, c, name, data] of during) await send(id, c, name, data);
    await send('evt-2', people[1], 'email.bounced', { type: 'soft' }); // the same event again: stored once, fanned out once
    await new Promise((r) => setTimeout(r, Math.max(0, 30_000 - (Date.now() - downAt))));
    const pending = (await api.call('GET', `/v1/webhooks/${webhookId}/deliveries?limit=50`)).json().deliveries;
    const waiting = pending.filter((d: { state: string }) => d.state === 'pending');
    expect(waiting.map((d: { eventId: string }) => d.eventId).sort()).toEqual(['evt-2', 'evt-3', 'evt-5']);
    for (const d of waiting) {
      expect(d.attempts).toBeGreaterThan(2);
      expect(d.lastError).toMatch(/ECONNREFUSED|fetch failed|TypeError/);
    }
    console.log(`receiver down 30 s: ${waiting.length} deliveries pending after ${waiting.map((d: { attempts: number }) => d.attempts).join(', ')} attempts`);

    // Back on the same port: every event arrives.
    const r2 = receiver(port);
    r2.setSecret(secret);
    await r2.start();
    const backAt = Date.now();
    await until('the deliveries after the receiver came back', () => new Set(r2.got.map((g) => g.eventId)).size === 3, 30_000);
    console.log(`all pending deliveries arrived ${Date.now() - backAt} ms after the receiver came back`);
    expect(r2.got.every((g) => g.signatureOk)).toBe(true);
    expect(new Set(r2.got.map((g) => g.eventId))).toEqual(new Set(['evt-2', 'evt-3', 'evt-5']));
    expect(r2.got.every((g) => g.attempt > 1)).toBe(true);

    // A replay is a duplicate delivery: same event id, so the receiver recognises it.
    const replay = await api.call('POST', `/v1/webhooks/${webhookId}/deliveries/evt-1/replay`);
    expect(replay.status).toBe(202);
    await until('the replayed delivery', () => r2.got.some((g) => g.eventId === 'evt-1'), 20_000);
    const all = [...r1.got, ...r2.got];
    const ids = all.map((g) => g.eventId);
    expect(ids.filter((i) => i === 'evt-1').length).toBe(2);
    expect(new Set(ids)).toEqual(new Set(['evt-1', 'evt-2', 'evt-3', 'evt-5']));
    expect(ids).not.toContain('evt-4');
    const final = (await api.call('GET', `/v1/webhooks/${webhookId}/deliveries`)).json().deliveries;
    expect(final.map((d: { eventId: string; state: string }) => `${d.eventId}:${d.state}`)).toEqual(['evt-1:delivered', 'evt-2:delivered', 'evt-3:delivered', 'evt-5:delivered']);
    await r2.stop();
  });

  it('refuses a webhook URL that is not http(s) and an unknown webhook', async () => {
    const bad = await api.call('POST', '/v1/webhooks', { url: 'ftp://example.com/x', events: ['email.bounced'] });
    expect(bad.status).toBe(400);
    expect(bad.json().error.pointer).toBe('/url');
    expect((await api.call('GET', '/v1/webhooks/wh_000000000000000000000000/deliveries')).status).toBe(404);
    expect((await api.call('POST', '/v1/webhooks/wh_000000000000000000000000/deliveries/evt-1/replay')).status).toBe(404);
  });
});

/**
 * The webhook step against a real HTTP server (node:http on loopback): signed JSON, one idempotency
 * key across retries, backoff on 5xx, 4xx final, a duplicate delivery recognised by the receiver, and
 * answer fields written to the contact.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { dataLayerContactStore } from '../../../activities/contact-store';
import { createWebhookStepActivities } from '../../../activities/webhook-step';
import { verifySignature } from '../../../lib/webhook-signature';
import type { JourneyResult } from '../../../workflows/definitions';
import { contact, contactDoc, deploy, plan, useEngine } from '../helpers';

const SECRET = 'webhook-step-test-secret-0123456789abcdef';

interface Received { key: string; attempt: string; signed: boolean; body: Record<string, unknown> }

/** A receiver the way integrators are told to write one: verify the signature, apply each idempotency key once. */
function receiver() {
  const received: Received[] = [];
  const applied = new Map<string, number>();
  const script: ((r: Received, res: http.ServerResponse) => void)[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const r: Received = {
        key: String(req.headers['idempotency-key']), attempt: String(req.headers['sojourn-delivery-attempt']),
        signed: verifySignature(SECRET, raw, req.headers['sojourn-signature'] as string | undefined).ok, body: JSON.parse(raw) as Record<string, unknown>,
      };
      received.push(r);
      const answer = script.shift() ?? ((_r, out) => out.writeHead(200).end());
      answer(r, res);
    });
  });
  const apply = (r: Received) => applied.set(r.key, (applied.get(r.key) ?? 0) + 1);
  return {
    server, received, applied, script, apply,
    url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/crm`,
    /** 200 with a JSON answer; a key seen before is acknowledged without applying it again. */
    ok: (json: unknown) => (r: Received, res: http.ServerResponse) => {
      if (!applied.has(r.key)) apply(r);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(json));
    },
  };
}

describe('the webhook step', () => {
  const rx = receiver();
  const engine = useEngine({
    webhooks: createWebhookStepActivities({
      contacts: dataLayerContactStore(),
      config: { secret: SECRET, development: true, allowedHosts: [], retryHours: 24 },
      timeoutMs: 1_500,
    }),
  });
  beforeAll(async () => { await new Promise<void>((r) => rx.server.listen(0, '127.0.0.1', r)); });
  afterAll(async () => { rx.server.closeAllConnections(); await new Promise((r) => rx.server.close(r)); });
  beforeEach(() => { rx.received.length = 0; rx.applied.clear(); rx.script.length = 0; });

  const journey = (id: string) => plan(id, [
    {
      id: 'crm_sync', kind: 'webhook', url: rx.url(),
      body: { contact: { source: 'contact.id' }, name: { source: 'contact.firstName' }, opens: { source: 'contact.engagement.opens' }, source: 'sojourn' },
      setFromResponse: { 'attributes.crm_id': 'id', 'attributes.stage': 'deal.stage', lifecycle: 'deal.lifecycle' },
    },
    { id: 'done', kind: 'update', addTags: ['synced'] },
  ]);

  it('retries a 503 with the same idempotency key and a fresh signature, then writes the answer to the contact', async () => {
    const p = await deploy(journey('webhook-retry'));
    const c = await contact({ firstName: 'Ana' });
    rx.script.push((_r, res) => res.writeHead(503).end('busy'), rx.ok({ id: 'crm-42', deal: { stage: 'qualified', lifecycle: 'active' } }));
    const result = (await (await engine.start(p, c)).result()) as JourneyResult;

    expect(rx.received.map((r) => r.attempt)).toEqual(['1', '2']);
    expect(new Set(rx.received.map((r) => r.key)).size).toBe(1);
    expect(rx.received.every((r) => r.signed)).toBe(true);
    expect(rx.received[1].body).toEqual({ contact: c, name: 'Ana', opens: 0, source: 'sojourn' });
    expect(rx.applied.get(rx.received[0].key)).toBe(1);
    expect(result.lastCall).toMatchObject({ outcome: 'delivered', status: 200, attempt: 2 });
    const doc = await contactDoc(c);
    expect(doc).toMatchObject({ attributes: { crm_id: 'crm-42', stage: 'qualified' }, classification: { lifecycle: { value: 'active' } }, tags: ['synced'] });
  });

  it('delivers twice when the first answer is lost, and the receiver applies the key once', async () => {
    const p = await deploy(journey('webhook-duplicate'));
    const c = await contact();
    // The first attempt reaches the receiver, which applies it, but its answer never comes back
    // (the activity's request times out); the retry is the duplicate the key lets the receiver spot.
    rx.script.push((r, res) => { rx.apply(r); setTimeout(() => res.destroyed || res.writeHead(200).end(), 5_000); }, rx.ok({ id: 'crm-7' }));
    await (await engine.start(p, c)).result();

    expect(rx.received).toHaveLength(2);
    expect(rx.received[0].key).toBe(rx.received[1].key);
    expect(rx.received[0].body).toEqual(rx.received[1].body);
    expect([...rx.applied.values()]).toEqual([1]);
    expect((await contactDoc(c)).attributes).toMatchObject({ crm_id: 'crm-7' });
  });

  it('treats a 4xx as final: one request, the contact unchanged, the run goes on with the failure recorded', async () => {
    const p = await deploy(journey('webhook-4xx'));
    const c = await contact();
    rx.script.push((_r, res) => res.writeHead(422, { 'content-type': 'application/json' }).end('{"id":"never"}'));
    const result = (await (await engine.start(p, c)).result()) as JourneyResult;

    expect(rx.received).toHaveLength(1);
    expect(result.lastCall).toMatchObject({ outcome: 'failed', reason: 'http_4xx', status: 422 });
    const doc = await contactDoc(c);
    expect(doc.attributes).not.toHaveProperty('crm_id');
    expect(doc.tags).toEqual(['synced']);
  });

  it('gives each run its own key: two contacts, two keys', async () => {
    const p = await deploy(journey('webhook-keys'));
    for (const c of [await contact(), await contact()]) await (await engine.start(p, c)).result();
    expect(rx.received).toHaveLength(2);
    expect(rx.received[0].key).not.toBe(rx.received[1].key);
  });
});

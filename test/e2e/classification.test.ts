/**
 * Classification on the local stack: the shipped rules (journeys/crm.rules.yaml) deployed by
 * `sojourn serve`, contacts loaded through the HTTP API (an import, sign-ups, orders), the daily
 * classification run through the Temporal Schedule the product registers, and the `vip` segment read
 * back through `GET /v1/contacts?segment=vip`.
 */
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { loadConfig } from '../../lib/config';
import { freePort, startTemporalDev, type RunningServer } from '../../scripts/servers';
import { startSojourn, type RunningSojourn } from '../../server/serve';
import { getContact } from '../../data/contacts';
import { SEARCH_ATTRIBUTES } from '../../engine/search-attributes';
import { CLASSIFY_SCHEDULE_ID } from '../../engine/schedules';
import { startSmtpSink, type SmtpSink } from '../../testing/smtp-sink';
import type { ClassifyScanTotals } from '../../workflows/classify-scan';
import { uniqueDatabaseUri } from '../helpers/db';
import { temporalCliBin } from '../helpers/temporal';
import { daytimeZone } from '../../testing/daytime-zone';

const API_KEY = 'e2e-classify-api-key';

describe('classification on the local stack', () => {
  let temporal: RunningServer & { address: string };
  let smtp: SmtpSink;
  let sojourn: RunningSojourn;
  let base: string;
  const zone = daytimeZone();

  beforeAll(async () => {
    const port = await freePort();
    temporal = await startTemporalDev({
      bin: temporalCliBin(), port, searchAttributes: [...SEARCH_ATTRIBUTES],
      logFile: path.join(os.tmpdir(), `sojourn-e2e-classify-${port}.log`),
    });
    smtp = await startSmtpSink();
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    const config = loadConfig({
      MONGODB_URI: uniqueDatabaseUri('e2e_classify'), TEMPORAL_ADDRESS: temporal.address, SMTP_URL: smtp.url,
      HTTP_PORT: String(httpPort), SOJOURN_ENV: 'development', SOJOURN_API_KEY: API_KEY, TASK_QUEUE: 'sojourn-e2e-classify',
    } as NodeJS.ProcessEnv);
    sojourn = await startSojourn(config, { demo: false, journeys: [path.join(__dirname, '..', '..', 'journeys')] });
  }, 180_000);

  afterAll(async () => {
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await sojourn?.stop();
    await smtp?.close();
    await temporal?.stop();
  }, 60_000);

  async function api(method: string, route: string, body?: unknown, type = 'application/json') {
    const res = await fetch(`${base}${route}`, {
      method, headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': type }) },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  }
  async function vipSegment(): Promise<string[]> {
    const r = await api('GET', '/v1/contacts?segment=vip&limit=100');
    expect(r.status).toBe(200);
    return (r.json.contacts as { id: string }[]).map((c) => c.id).sort();
  }
  async function signUp(email: string): Promise<string> {
    const r = await api('POST', '/v1/contacts', { email, firstName: 'Test', timezone: zone, consent: { email: 'subscribed' } });
    expect(r.status).toBe(201);
    return r.json.id as string;
  }
  async function order(contactId: string, orderId: string, amount: number) {
    const r = await api('POST', '/v1/events', { contactId, name: 'order.completed', eventId: `order:${orderId}`, data: { orderId, amount } });
    expect([200, 201, 202]).toContain(r.status);
  }

  it('orders and changes classify their contact at once; the daily schedule classifies everybody else; vip selects exactly the VIPs', async () => {
    // Existing customers from a CSV import (imports announce nobody): one marked vip by the team.
    const csv = ['email,first_name,tags,consent_email', 'carol@example.com,Carol,vip,subscribed', 'finn@example.com,Finn,newsletter,subscribed', 'gus@example.com,Gus,,subscribed'].join('\n');
    const job = await api('POST', '/v1/imports', csv, 'text/csv');
    expect(job.status).toBe(202);
    for (let state = ''; state !== 'done';) {
      const j = await api('GET', `/v1/imports/${job.json.id as string}`);
      state = j.json.state as string;
      if (state === 'failed') throw new Error(`import failed: ${JSON.stringify(j.json)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const all = (await api('GET', '/v1/contacts?limit=100')).json.contacts as { id: string; email: string }[];
    const byEmail = (email: string) => all.find((c) => c.email === email)!.id;
    const carol = byEmail('carol@example.com');
    const finn = byEmail('finn@example.com');

    // Sign-ups, then orders through the events API.
    const dan = await signUp('dan@example.com');
    const erin = await signUp('erin@example.com');
    await signUp('hana@example.com');
    await order(dan, 'd-1', 1500); // 1,000 or more spent: vip at once
    await order(erin, 'e-1', 60);
    await order(erin, 'e-2', 80); // a repeat buyer: potential
    await order(finn, 'f-1', 40);

    // Event-time classification (one key read and write per order), before any schedule ran.
    expect((await getContact(dan))!.classification).toMatchObject({ importance: { value: 'vip', rule: 'importance#0' }, rfm: { value: 'new_customers' }, businessType: { value: 'after_sales' } });
    expect((await getContact(dan))!.rfmScore).toMatchObject({ recency: 5, frequency: 1, monetary: 4 });
    expect((await getContact(erin))!.classification.importance).toMatchObject({ value: 'potential', rule: 'importance#1' });
    expect((await getContact(carol))!.classification?.importance).toBeUndefined();
    expect(await vipSegment()).toEqual([dan]);

    // The daily pass, through the schedule that deploy registered.
    const schedule = sojourn.client.schedule.getHandle(CLASSIFY_SCHEDULE_ID);
    const described = await schedule.describe();
    expect(described.action).toMatchObject({ type: 'startWorkflow', workflowType: 'classifyScan' });
    await schedule.trigger();
    let workflowId: string | undefined;
    for (const deadline = Date.now() + 30_000; !workflowId && Date.now() < deadline;) {
      const d = await schedule.describe();
      workflowId = (d.info.recentActions[0]?.action ?? d.info.runningActions[0])?.workflow.workflowId;
      if (!workflowId) await new Promise((r) => setTimeout(r, 250));
    }
    expect(workflowId).toBeDefined();
    const totals = (await sojourn.client.workflow.getHandle(workflowId!).result()) as ClassifyScanTotals;
    expect(totals.scanned).toBe(6);
    expect(totals.distribution.importance).toEqual({ vip: { 'importance#0': 2 }, potential: { 'importance#1': 1 }, normal: { 'importance#otherwise': 3 } });

    expect(await vipSegment()).toEqual([carol, dan].sort());
    expect((await getContact(carol))!.classification.importance).toMatchObject({ value: 'vip', rule: 'importance#0', reason: 'spent 1000+ or 10+ orders or tagged vip' });
    expect((await getContact(finn))!.classification).toMatchObject({ importance: { value: 'normal' }, rfm: { value: 'new_customers' }, businessType: { value: 'after_sales' } });

    // A change through PATCH counts at once too: the team marks Gus a VIP and a complaint.
    const gus = byEmail('gus@example.com');
    const patched = await api('PATCH', `/v1/contacts/${gus}`, { tags: ['vip', 'complaint'] });
    expect(patched.status).toBe(200);
    expect(patched.json.contact).toMatchObject({ importance: 'vip', businessType: 'complaint' });
    expect(await vipSegment()).toEqual([carol, dan, gus].sort());
  }, 150_000);
});

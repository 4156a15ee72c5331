/**
 * Inbound mail end to end on the local stack: Sojourn as `npm start` runs it (worker, HTTP server and
 * the inbound SMTP listener), the Temporal dev server, the database and an SMTP sink. The mailto
 * List-Unsubscribe of the welcome email actually sent is used as a mail client would use it: a
 * message to that address, with that subject, through the inbound listener.
 */
import os from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import mongoose from 'mongoose';
import nodemailer from 'nodemailer';
import { loadConfig } from '../../lib/config';
import { freePort, startTemporalDev, type RunningServer } from '../../scripts/servers';
import { startSojourn, type RunningSojourn } from '../../server/serve';
import { SEARCH_ATTRIBUTES } from '../../engine/search-attributes';
import { startSmtpSink, type SmtpSink } from '../../testing/smtp-sink';
import { temporalCliBin } from '../helpers/temporal';
import { uniqueDatabaseUri } from '../helpers/db';
import { daytimeZone } from '../../testing/daytime-zone';

const API_KEY = 'e2e-inbound-api-key';

describe('inbound mail on the local stack', () => {
  let temporal: RunningServer & { address: string };
  let smtp: SmtpSink;
  let sojourn: RunningSojourn;
  let base: string;
  let inboundPort: number;
  const mailDomain = 'inbound.sojourn.test';

  beforeAll(async () => {
    const port = await freePort();
    temporal = await startTemporalDev({ bin: temporalCliBin(), port, searchAttributes: [...SEARCH_ATTRIBUTES], logFile: path.join(os.tmpdir(), `sojourn-e2e-inbound-${port}.log`) });
    smtp = await startSmtpSink();
    const httpPort = await freePort();
    inboundPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    const config = loadConfig({
      MONGODB_URI: uniqueDatabaseUri('e2e_inbound'), TEMPORAL_ADDRESS: temporal.address, SMTP_URL: smtp.url, MAIL_DOMAIN: mailDomain,
      HTTP_PORT: String(httpPort), SOJOURN_ENV: 'development', SOJOURN_API_KEY: API_KEY, TASK_QUEUE: 'sojourn-e2e-inbound', INBOUND_SMTP_PORT: String(inboundPort),
    } as NodeJS.ProcessEnv);
    sojourn = await startSojourn(config, { demo: false, journeys: [path.join(__dirname, '..', '..', 'journeys')] });
  }, 180_000);

  afterAll(async () => {
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await sojourn?.stop();
    await smtp?.close();
    await temporal?.stop();
  }, 60_000);

  const api = (p: string, init: RequestInit = {}) => fetch(`${base}/v1${p}`, { ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}`, ...init.headers } });
  const inbound = () => nodemailer.createTransport({ host: '127.0.0.1', port: inboundPort, secure: false, ignoreTLS: true });

  async function mailTo(address: string, timeoutMs = 30_000): Promise<ParsedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const raw of smtp.messages) {
        const m = await simpleParser(raw);
        if (m.to && !Array.isArray(m.to) && m.to.value[0]?.address === address) return m;
      }
      if (Date.now() > deadline) throw new Error(`no email to ${address} within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  async function exported(id: string): Promise<{ contact: { consent: { email: { status: string } } }; events: { name: string; data: Record<string, unknown> }[] }> {
    const res = await api(`/contacts/${id}/export`);
    expect(res.status).toBe(200);
    return (await res.json()) as never;
  }
  async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await f();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('a message to the mailto List-Unsubscribe address of the welcome email unsubscribes the contact', async () => {
    const email = `mia.${Date.now()}@example.com`;
    const res = await api('/contacts', { method: 'POST', body: JSON.stringify({ email, firstName: 'Mia', timezone: daytimeZone(), consent: { email: 'subscribed' } }) });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };

    const welcome = await mailTo(email);
    const listUnsubscribe = welcome.headerLines.find((h) => h.key === 'list-unsubscribe')!.line;
    const mailto = new URL(listUnsubscribe.match(/<(mailto:[^>]+)>/)![1]);
    expect(mailto.pathname).toBe(`unsubscribe@${mailDomain}`);

    await inbound().sendMail({ from: email, to: mailto.pathname, subject: mailto.searchParams.get('subject')!, text: '' });
    const after = await until('the unsubscribe', async () => {
      const e = await exported(id);
      return e.contact.consent.email.status === 'unsubscribed' && e;
    });
    expect(after.events.map((e) => e.name)).toContain('email.unsubscribed');
  }, 90_000);

  it('a question from a contact is classified and recorded on the timeline; mail for other domains is refused', async () => {
    const email = `li.${Date.now()}@example.cn`;
    const res = await api('/contacts', { method: 'POST', body: JSON.stringify({ email, firstName: 'Li', timezone: daytimeZone(), consent: { email: 'subscribed' } }) });
    const { id } = (await res.json()) as { id: string };

    await inbound().sendMail({ from: email, to: `hello@${mailDomain}`, subject: '急：订单还没发货', text: '我上周的订单到现在还没发货，请尽快处理。' });
    const received = await until('email.received', async () => (await exported(id)).events.find((e) => e.name === 'email.received'));
    expect(received.data).toMatchObject({ category: 'after_sales', urgency: 'high' });
    expect(JSON.stringify(received)).not.toMatch(/订单|发货/);

    await expect(inbound().sendMail({ from: email, to: 'someone@example.org', subject: 'relay?', text: 'x' })).rejects.toThrow(/550|Relay/);
  }, 60_000);

  it('GET /metrics (development mode: no key) counts what the stack did: requests, events, runs, gate decisions, sends', async () => {
    const value = (text: string, name: string, labels: Record<string, string>) => {
      // The sum over every series of `name` whose labels include these.
      const lines = text.split('\n').filter((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
      return lines.reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    };
    // The first test's welcome run exits after the mailto unsubscribe (exit_when), and both welcome
    // emails go out (the second test did not wait for its own); wait until both are counted.
    const text = await until('the ended run and both sends in /metrics', async () => {
      const t = await (await fetch(`${base}/metrics`)).text();
      return value(t, 'sojourn_runs_ended_total', { journey: 'welcome', outcome: 'exited' }) >= 1 && value(t, 'sojourn_sends_total', { outcome: 'sent' }) >= 2 && t;
    }, 30_000);
    expect(value(text, 'sojourn_http_requests_total', { method: 'POST', route: '/v1/contacts', status: '201' })).toBe(2);
    expect(value(text, 'sojourn_events_ingested_total', { name: 'contact.created' })).toBe(2);
    expect(value(text, 'sojourn_events_ingested_total', { name: 'email.received' })).toBe(1);
    expect(value(text, 'sojourn_events_ingested_total', { name: 'email.unsubscribed' })).toBe(1);
    expect(value(text, 'sojourn_runs_started_total', { journey: 'welcome' })).toBeGreaterThanOrEqual(2);
    expect(value(text, 'sojourn_gate_decisions_total', { decision: 'send' })).toBeGreaterThanOrEqual(2);
    expect(value(text, 'sojourn_sends_total', { outcome: 'sent' })).toBeGreaterThanOrEqual(2);
    expect(value(text, 'sojourn_activity_duration_seconds_count', { activity: 'sendEmail', result: 'ok' })).toBeGreaterThanOrEqual(2);
    expect(text).not.toMatch(/@example\.(com|cn)/);
  }, 60_000);
});

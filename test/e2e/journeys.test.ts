/**
 * End to end on the local stack: the Temporal dev server, the database, an SMTP server, and Sojourn
 * itself (worker + HTTP API + public endpoints) as `npm start` runs it, with the shipped journeys.
 * Real emails land in the SMTP server and the links in them are followed by an HTTP client.
 * Durations are shortened with the documented test setting SOJOURN_TIME_SCALE (1 day -> 1 second).
 */
import os from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import mongoose from 'mongoose';
import { loadConfig } from '../../lib/config';
import { freePort, startTemporalDev, type RunningServer } from '../../scripts/servers';
import { startSojourn, type RunningSojourn } from '../../server/serve';
import { upsertContact, getContact } from '../../data/contacts';
import { ContactModel } from '../../data/contact-model';
import { ContactEventModel } from '../../data/contact-event-model';
import { SEARCH_ATTRIBUTES } from '../../engine/search-attributes';
import { startSmtpSink, type SmtpSink } from '../../testing/smtp-sink';
import { journeyWorkflowId, type JourneyResult } from '../../workflows/definitions';
import { temporalCliBin } from '../helpers/temporal';
import { uniqueDatabaseUri } from '../helpers/db';
import { daytimeZone } from '../../testing/daytime-zone';

const API_KEY = 'e2e-api-key';
const DAY = 86_400_000;
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';

describe('the shipped journeys on the local stack', () => {
  let temporal: RunningServer & { address: string };
  let smtp: SmtpSink;
  let sojourn: RunningSojourn;
  let base: string;
  const zone = daytimeZone();

  beforeAll(async () => {
    const port = await freePort();
    temporal = await startTemporalDev({
      bin: temporalCliBin(), port, searchAttributes: [...SEARCH_ATTRIBUTES],
      logFile: path.join(os.tmpdir(), `sojourn-e2e-journeys-${port}.log`),
    });
    smtp = await startSmtpSink();
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    const config = {
      ...loadConfig({
        MONGODB_URI: uniqueDatabaseUri('e2e'), TEMPORAL_ADDRESS: temporal.address, SMTP_URL: smtp.url,
        HTTP_PORT: String(httpPort), SOJOURN_ENV: 'development', SOJOURN_API_KEY: API_KEY, SOJOURN_TIME_SCALE: '1/86400', TASK_QUEUE: 'sojourn-e2e',
      } as NodeJS.ProcessEnv),
    };
    sojourn = await startSojourn(config, { demo: false, journeys: [path.join(__dirname, '..', '..', 'journeys')] });
  }, 180_000);

  afterAll(async () => {
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await sojourn?.stop();
    await smtp?.close();
    await temporal?.stop();
  }, 60_000);

  async function mailTo(address: string, subject: RegExp, timeoutMs = 30_000): Promise<ParsedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const raw of smtp.messages) {
        const m = await simpleParser(raw);
        const to = m.to && !Array.isArray(m.to) ? m.to.value[0]?.address : undefined;
        if (to === address && subject.test(m.subject ?? '')) return m;
      }
      if (Date.now() > deadline) throw new Error(`no email to ${address} with subject ${subject} within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  async function mailsTo(address: string): Promise<string[]> {
    const out: string[] = [];
    for (const raw of smtp.messages) {
      const m = await simpleParser(raw);
      if (m.to && !Array.isArray(m.to) && m.to.value[0]?.address === address) out.push(m.subject ?? '');
    }
    return out;
  }
  function header(m: ParsedMail, name: string): string {
    const line = m.headerLines.find((h) => h.key === name);
    return line ? line.line.slice(line.line.indexOf(':') + 1).trim() : '';
  }
  function link(m: ParsedMail, route: string): string {
    const found = String(m.html).match(new RegExp(`href="(${base}/${route}/[^"]+)"`));
    if (!found) throw new Error(`no /${route}/ link in "${m.subject}"`);
    return found[1].replace(/&amp;/g, '&');
  }
  async function result(workflowId: string): Promise<JourneyResult> {
    return (await sojourn.client.workflow.getHandle(workflowId).result()) as JourneyResult;
  }
  /** A contact loaded the way an import does (no sign-up event), with system fields set for the test. */
  async function existingContact(email: string, set: Record<string, unknown>): Promise<string> {
    const r = await upsertContact({ email, firstName: 'Test', timezone: zone, consent: { email: 'subscribed' } }, { source: 'import' });
    await ContactModel.updateOne({ _id: r.contact._id }, { $set: set }).exec();
    return String(r.contact._id);
  }

  it('welcome: a sign-up through the API gets a personalised welcome, and its one-click unsubscribe stops the next send', async () => {
    const email = `ana.${Date.now()}@example.com`;
    const res = await fetch(`${base}/v1/contacts`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ email, firstName: 'Ana', timezone: zone, consent: { email: 'subscribed' } }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };

    const welcome = await mailTo(email, /Ana/);
    expect(header(welcome, 'list-unsubscribe-post')).toBe('List-Unsubscribe=One-Click');
    const unsubscribeUrl = header(welcome, 'list-unsubscribe').match(/<(https?:[^>]+)>/)![1];
    expect(unsubscribeUrl).not.toContain(email);

    const get = await fetch(unsubscribeUrl);
    expect(get.status).toBe(200);
    expect((await getContact(id))!.consent.email.status).toBe('subscribed'); // GET only shows the page

    const post = await fetch(unsubscribeUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(post.status).toBe(200);
    expect((await getContact(id))!.consent.email.status).toBe('unsubscribed');

    const r = await result(journeyWorkflowId('welcome', id));
    expect(r.outcome).toBe('exited');
    // Without the unsubscribe, the tips email would follow two (scaled) days after the welcome.
    await new Promise((done) => setTimeout(done, 3_000));
    expect(await mailsTo(email)).toHaveLength(1);
  }, 90_000);

  it('double opt-in: the confirm link of the received email opens a page, its button confirms, and the welcome series continues', async () => {
    const email = `eva.${Date.now()}@example.com`;
    const res = await fetch(`${base}/v1/contacts`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
      body: JSON.stringify({ email, firstName: 'Eva', timezone: zone, consent: { email: 'pending' } }),
    });
    expect(res.status).toBe(201);
    const { id } = (await res.json()) as { id: string };

    const optin = await mailTo(email, /confirm/i);
    const confirmUrl = link(optin, 'c');
    expect(confirmUrl).not.toContain(email);
    // Opening the link (as a person or a link scanner does) only shows the page; nothing changes yet.
    const page = await fetch(confirmUrl, { headers: { 'user-agent': BROWSER_UA } });
    expect(page.status).toBe(200);
    const html = await page.text();
    const action = html.match(/<form[^>]+action="([^"]+)"/i)![1].replace(/&amp;/g, '&');
    expect((await getContact(id))!.consent.email.status).toBe('pending');
    expect(await mailsTo(email)).toHaveLength(1);

    // The button POSTs the form: consent becomes subscribed (email.confirmed) and the run goes on.
    const press = await fetch(new URL(action, confirmUrl), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': BROWSER_UA }, body: '' });
    expect(press.status).toBe(200);
    expect((await getContact(id))!.consent.email.status).toBe('subscribed');
    const welcome = await mailTo(email, /Eva/);
    expect(welcome.subject).toMatch(/Welcome/i);
    // Two (scaled) days later without a click, the series continues with the tips email.
    const deadline = Date.now() + 30_000;
    while ((await mailsTo(email)).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    const subjects = await mailsTo(email);
    expect(subjects).toHaveLength(3);
    expect(subjects[2]).toMatch(/tips/i);
  }, 90_000);

  it('re-engagement: the daily scan finds an inactive contact, and a click on the win-back link marks them active', async () => {
    const email = `bo.${Date.now()}@example.com`;
    const id = await existingContact(email, { emailStatus: 'verified', emailVerifiedAt: new Date(), lastActivityAt: new Date(Date.now() - 200 * DAY), createdAt: new Date(Date.now() - 400 * DAY) });
    await sojourn.client.schedule.getHandle('sojourn/reengagement/audience').trigger();

    const winback = await mailTo(email, /./);
    // A link scanner checks the link first (HEAD, then GET with its user agent): stored as a machine click, nothing more.
    await fetch(link(winback, 'r'), { method: 'HEAD', redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (compatible; Barracuda Sentinel)' } });
    await fetch(link(winback, 'r'), { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (compatible; Barracuda Sentinel)' } });
    await new Promise((done) => setTimeout(done, 1_000));
    const clicks = await ContactEventModel.find({ contactId: id, name: 'email.clicked' }).lean();
    expect(clicks.map((c) => [c.machine, c.dispatchedAt])).toEqual([[true, null], [true, null]]);
    expect((await getContact(id))!.engagement.clicks).toBe(0);
    expect((await getContact(id))!.classification?.lifecycle?.value).toBe('at_risk');
    // A person: a browser, a few seconds after the email arrived (a click within 2 s of the send is a scanner's).
    await new Promise((done) => setTimeout(done, 2_500));
    const click = await fetch(link(winback, 'r'), { redirect: 'manual', headers: { 'user-agent': BROWSER_UA } });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toMatch(/^https?:\/\//);

    const handle = (await sojourn.client.workflow.list({ query: `SojournJourney = "reengagement" AND SojournContact = "${id}"` })[Symbol.asyncIterator]().next()).value;
    expect(handle).toBeDefined();
    const r = await result(handle!.workflowId);
    expect(r.outcome).toBe('completed');
    expect((await getContact(id))!.classification?.lifecycle?.value).toBe('active');
  }, 90_000);

  it('verification: the link opens a page that changes nothing, and its button verifies the address', async () => {
    const email = `cai.${Date.now()}@example.com`;
    const id = await existingContact(email, { emailStatus: 'verified', emailVerifiedAt: new Date(Date.now() - 200 * DAY), lastActivityAt: new Date(), createdAt: new Date(Date.now() - 400 * DAY) });
    await sojourn.client.schedule.getHandle('sojourn/verification/audience').trigger();

    const mail = await mailTo(email, /verify/i);
    const verifyUrl = link(mail, 'v');
    const page = await fetch(verifyUrl);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<form[^>]+method="post"/i);
    expect((await getContact(id))!.emailStatus).toBe('pending');

    const confirm = await fetch(verifyUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' });
    expect(confirm.status).toBe(200);
    const r = await result(journeyWorkflowId('verification', id));
    expect(r.outcome).toBe('converted');
    const doc = await getContact(id);
    expect(doc!.emailStatus).toBe('verified');
    expect(Date.now() - new Date(doc!.emailVerifiedAt!).getTime()).toBeLessThan(60_000);
  }, 90_000);

  it('birthday: a daily scan that ran late still sends the birthday email with a personal offer code at once, and only once', async () => {
    const email = `dan.${Date.now()}@example.com`;
    const now = new Date();
    const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', { timeZone: zone, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
      .formatToParts(now).map((p) => [p.type, p.value]));
    const today = `${parts.month}-${parts.day}`;
    const id = await existingContact(email, { birthday: { month: Number(parts.month), day: Number(parts.day) }, birthdayMonthDay: today });
    // The scan "ran" at 08:00 local today (as after downtime): the 09:00 send is already due.
    const scanAt = new Date(now.getTime() - ((Number(parts.hour) - 8) * 60 + Number(parts.minute)) * 60_000).toISOString();
    const scan = (n: number) => sojourn.client.workflow.execute('birthdayScan', {
      taskQueue: 'sojourn-e2e', workflowId: `e2e-birthday-scan-${id}-${n}`, args: [{ journeyId: 'birthday', scanAt }],
    });
    await scan(1);

    const mail = await mailTo(email, /birthday/i);
    expect(mail.text).toMatch(/BDAY-/);
    expect((await getContact(id))!.tags).toContain('birthday_offer');
    await scan(2);
    await new Promise((done) => setTimeout(done, 3_000));
    expect((await mailsTo(email)).filter((s) => /birthday/i.test(s))).toHaveLength(1);
  }, 90_000);
});

/**
 * Plays journey scenarios (testing/scenarios.ts) for real: the shipped journeys compiled and deployed
 * into a database, the real interpreter on Temporal's time-skipping test server, the real activities
 * (contacts, gate, rendering, SMTP into an in-process server, send ledger), and the real HTTP server
 * (server/app.ts) on a loopback port: a person's opens, clicks, confirmations, verifications,
 * unsubscribes and preference changes follow the links of the email actually received, through the
 * public endpoints; other events go through POST /v1/events. Every event therefore takes the product's
 * one door (engine/ingest.ts); no event name means anything special here. The server, the send activity
 * and the token checks share the simulated clock. A passing scenario means the journey works, not that a
 * mock agreed.
 *
 * Each scenario gets its own contact (the address is made unique with a +tag, so several scenarios
 * may name the same person); simulated time is shared and only moves forward.
 */
import { holidayDate } from '../lib/holiday-calendar';
import type { HolidayName } from '../rules/holiday-names';
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { DateTime } from 'luxon';
import mongoose from 'mongoose';
import { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Context } from '@temporalio/activity';
import type { Worker } from '@temporalio/worker';
import { loadConfig } from '../lib/config';
import { loadProject } from '../engine/project';
import { initDatabase } from '../data/db';
import { upsertContact, getContact } from '../data/contacts';
import type { Config } from '../lib/config';
import { ContactModel } from '../data/contact-model';
import { toContactView } from '../data/contact-view';
import { Send } from '../data/send-ledger';
import { saveJourneyVersion } from '../data/journey-versions';
import { parseDuration } from '../rules/duration';
import { formatDiagnostic, type JourneyPlan } from '../rules';
import { buildWorker } from '../worker/build-worker';
import { registerSearchAttributes } from '../engine/search-attributes';
import { createEngineIngest } from '../engine/engine-ingest';
import { createSendActivities, createTaskActivities } from '../worker/send-activities';
import type { SendActivities } from '../activities/send';
import type { Ingest } from '../engine/ingest';
import { dataLayerContactStore } from '../activities/contact-store';
import { candidateIds } from '../engine/dispatch';
import { buildServer } from '../server/app';
import { freePort } from '../scripts/servers';
import { journeyWorkflowId, keyedWorkflowId, statusQuery, type JourneyResult } from '../workflows/definitions';
import { eventTriggers } from '../data/journey-versions';
import { entryKeyOf } from '../rules/trigger-data';
import { createSmtpTransport } from '../mail/transport';
import { sojournDataConverter } from '../lib/payload-codec';
import { startSmtpSink, type SmtpSink } from './smtp-sink';
import type { Scenario, ScenarioAction, ScenarioFile } from './scenarios';

export interface Check { line: number; text: string; ok: boolean; detail?: string }
export interface ScenarioOutcome { file: string; name: string; line: number; ok: boolean; checks: Check[]; error?: string }

const TASK_QUEUE = 'sojourn-scenarios';
const EventType = temporal.api.enums.v1.EventType;
/** How long (wall clock) an expectation waits for the system to get there before it fails: generous, since a
 * passing check returns as soon as it holds, and on a loaded 2-core machine activities may retry (SQLite busy). */
const SETTLE_MS = 20_000;

interface SentEmail { key: string; templateId: string; messageId: string; subject: string; to: string; createdAt: Date; sentAt: Date | null; html: string; listUnsubscribe: string }

/** A desktop browser: what a person clicks with. */
const BROWSER_UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';
/** A security gateway that follows every link of incoming mail (mail/machine.ts knows it). */
const SCANNER_UA = 'Mozilla/5.0 (compatible; Proofpoint URL Defense scanner)';
/** Apple Mail Privacy Protection fetches images with this bare user agent. */
const PROXY_UA = 'Mozilla/5.0';
/** A person opens or clicks at the earliest this long after the email arrived (faster is what machines do). */
const HUMAN_DELAY_MS = 15_000;

/**
 * Inside an activity, the simulated time the server scheduled it at: a send during an `advance` happens
 * at the skipped-to time, which the wall-clock based SimClock only learns after the advance.
 */
function activityTime(): Date | null {
  const at = workflowTime.getStore();
  if (at) return new Date(at.at + (Date.now() - at.wallStart));
  const info = activityInfo();
  return info && !info.isLocal ? new Date(info.currentAttemptScheduledTimestampMs) : null;
}

/** The running activity's info; null outside an activity. */
function activityInfo(): ReturnType<typeof Context.current>['info'] | null {
  try {
    return Context.current().info;
  } catch {
    return null;
  }
}

/**
 * A local activity (a send's first attempt, decision 46) is timed by the worker's wall clock, not the
 * server's skipped time: its simulated time is the workflow's time of the call (the send input's `at`)
 * plus the wall time the attempt has taken so far.
 */
const workflowTime = new AsyncLocalStorage<{ at: number; wallStart: number }>();

function atWorkflowTime(send: SendActivities): SendActivities {
  return {
    sendEmail: (input) => {
      if (!activityInfo()?.isLocal) return send.sendEmail(input);
      if (!input.at) throw new Error(`a local send without its workflow time (at): ${input.key}`);
      return workflowTime.run({ at: Date.parse(input.at), wallStart: Date.now() }, () => send.sendEmail(input));
    },
  };
}

/** The simulated clock outside workflows: wall time plus the offset the test server has skipped. */
class SimClock {
  offset = 0;
  readonly now = (): Date => new Date(Date.now() + this.offset);
  async sync(env: TestWorkflowEnvironment): Promise<void> {
    this.offset = (await env.currentTimeMs()) - Date.now();
  }
}

export interface HarnessOptions {
  /** Journey and rules files or folders (default: journeys/). */
  paths?: string[];
  templatesDir?: string;
  /** Database (a fresh one per harness is best). */
  mongodbUri: string;
  /** Path of the time-skipping test server binary. */
  testServerBin: string;
  /** A pre-built workflow bundle path (npm test bundles once). */
  workflowBundlePath?: string;
}

export class ScenarioHarness {
  private runPromise: Promise<void> | null = null;
  private counter = 0;

  private constructor(
    readonly env: TestWorkflowEnvironment,
    private readonly client: Client,
    private readonly worker: Worker,
    private readonly smtp: SmtpSink,
    private readonly plans: Record<string, JourneyPlan>,
    private readonly config: Config,
    private readonly server: FastifyInstance,
    private readonly clock: SimClock,
  ) {}

  static async open(opts: HarnessOptions): Promise<ScenarioHarness> {
    const root = process.cwd();
    const project = loadProject(opts.paths ?? [path.join(root, 'journeys')], opts.templatesDir ?? path.join(root, 'templates'));
    const errors = project.result.diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) {
      const text = new Map(project.sources.map((s) => [s.path, s.text]));
      throw new Error(`the journeys do not compile:\n${errors.map((d) => formatDiagnostic(d, text.get(d.file))).join('\n')}`);
    }
    if (mongoose.connection.readyState !== 1) await mongoose.connect(opts.mongodbUri, { serverSelectionTimeoutMS: 10_000 });
    await initDatabase();
    for (const plan of Object.values(project.result.plans)) {
      const source = project.sources.find((s) => s.path === plan.sourceFile)?.text ?? '';
      await saveJourneyVersion(plan, source);
    }

    const smtp = await startSmtpSink();
    // Payloads are encrypted here as in production (lib/payload-codec.ts), so every scenario exercises the codec.
    const dataConverter = sojournDataConverter(loadConfig({ ...process.env, SOJOURN_ENV: 'development' }).payloadKeys);
    const env = await TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path: opts.testServerBin } }, client: { dataConverter } });
    await registerSearchAttributes(env.connection);
    // env.client lets the server skip time while it waits for a result; simulated time must move only
    // on `advance`, so everything here uses a plain client on the same server.
    const client = new Client({ connection: env.connection, namespace: 'default', dataConverter });
    // Test tooling (simulated time, an in-process SMTP sink): the development secrets are fine here.
    const port = await freePort();
    const config = { ...loadConfig({ ...process.env, SOJOURN_ENV: 'development' }), smtpUrl: smtp.url, publicBaseUrl: `http://127.0.0.1:${port}` };
    const clock = new SimClock();
    await clock.sync(env);
    const worker = await buildWorker({
      connection: env.nativeConnection,
      client,
      taskQueue: TASK_QUEUE,
      contacts: dataLayerContactStore(),
      send: atWorkflowTime(createSendActivities(config, { transport: createSmtpTransport(smtp.url), templatesDir: opts.templatesDir, now: () => activityTime() ?? clock.now() })),
      tasks: createTaskActivities(config, { transport: createSmtpTransport(smtp.url), templatesDir: opts.templatesDir, now: () => activityTime() ?? clock.now() }),
      payloadKeys: config.payloadKeys,
      workflowBundle: opts.workflowBundlePath ? { codePath: opts.workflowBundlePath } : undefined,
    });
    const ingest: Ingest = createEngineIngest(client, TASK_QUEUE);
    const server = await buildServer({ config, ingest, now: clock.now, logLevel: 'silent' });
    await server.listen({ port, host: '127.0.0.1' });
    const h = new ScenarioHarness(env, client, worker, smtp, project.result.plans, config, server, clock);
    h.runPromise = worker.run();
    return h;
  }

  async close(): Promise<void> {
    await this.server.close();
    this.worker.shutdown();
    await this.runPromise?.catch(() => undefined);
    await this.env.teardown();
    await this.smtp.close();
  }

  /** Lets simulated time pass for every run (what a scenario's `advance` does), outside any scenario. */
  async advance(ms: number): Promise<void> {
    await this.env.sleep(ms);
    await this.clock.sync(this.env);
  }

  /** A GET through the real HTTP API with the API key (e.g. the journey report), as JSON. */
  async apiGet(pathAndQuery: string): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.config.publicBaseUrl}${pathAndQuery}`, { headers: { authorization: `Bearer ${this.config.apiKey}` } });
    return { status: res.status, body: await res.json() };
  }

  /** A POST through the real HTTP API with the API key (e.g. a sign-up or an event), as JSON. */
  async apiPost(pathAndQuery: string, body: unknown): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${this.config.publicBaseUrl}${pathAndQuery}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.config.apiKey}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  }

  /** Every message the SMTP server received, raw (what the recipients got, not the ledger's account of it). */
  received(): readonly Buffer[] {
    return this.smtp.messages;
  }

  private async now(): Promise<Date> {
    return new Date(await this.env.currentTimeMs());
  }

  /** Runs one scenario; never throws for a failed expectation (it is reported), only for broken set-up. */
  async run(file: ScenarioFile, scenario: Scenario): Promise<ScenarioOutcome> {
    const plan = this.plans[file.journey];
    const outcome: ScenarioOutcome = { file: file.file, name: scenario.name, line: scenario.line, ok: true, checks: [] };
    if (!plan) {
      return { ...outcome, ok: false, error: `${file.file}: no journey "${file.journey}" among ${Object.keys(this.plans).join(', ')}` };
    }
    const n = ++this.counter;
    await this.env.sleep(msUntilNext(await this.now(), scenario.startTime));
    await this.clock.sync(this.env);
    const t0 = await this.now();
    const owner = scenario.owner ? await this.createOwner(scenario.owner, n) : null;
    const { contactId, email } = await this.createContact(scenario, n, t0, owner?.id);
    const consumed = new Set<string>();
    const runs = new Set<string>();
    try {
      for (const action of scenario.actions) {
        const zone = typeof scenario.contact.timezone === 'string' ? scenario.contact.timezone : 'UTC';
        const check = await this.play(action, { plan, contactId, email, consumed, file, runs, zone, owner });
        if (check) {
          outcome.checks.push(check);
          if (!check.ok) {
            outcome.ok = false;
            break; // later expectations would only repeat the first failure
          }
        }
      }
    } catch (err) {
      outcome.ok = false;
      const e = err as Error & { cause?: Error };
      outcome.error = e.cause ? `${e.message}: ${e.cause.message}` : e.message;
    }
    return outcome;
  }

  /** The scenario's owner through the real API (PUT /v1/owners/{id}); id and address made unique per scenario. */
  private async createOwner(o: NonNullable<Scenario['owner']>, n: number): Promise<{ id: string; email: string }> {
    const [local, domain] = o.email.split('@');
    const tag = `s${n}${Date.now().toString(36)}`;
    const owner = { id: `owner-${tag}`, email: `${local}+${tag}@${domain}` };
    const res = await fetch(`${this.config.publicBaseUrl}/v1/owners/${owner.id}`, {
      method: 'PUT', headers: { 'content-type': 'application/json', authorization: `Bearer ${this.config.apiKey}` },
      body: JSON.stringify({ name: o.name, email: owner.email, ...(o.crmId ? { crmId: o.crmId } : {}) }),
    });
    if (res.status !== 201) throw new Error(`PUT /v1/owners answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    return owner;
  }

  private async createContact(scenario: Scenario, n: number, t0: Date, ownerId?: string): Promise<{ contactId: string; email: string }> {
    const { source, emailStatus, lastActivityAt, emailVerifiedAt, createdAt, ...input } = scenario.contact as Record<string, unknown>;
    const birthday = input.birthday;
    if (typeof birthday === 'string' && birthday.startsWith('+')) delete input.birthday;
    const [local, domain] = String(input.email).split('@');
    const email = `${local}+s${n}${Date.now().toString(36)}@${domain}`;
    const r = await upsertContact({ ...input, email, ...(ownerId ? { owner: ownerId } : {}) } as never, { source: typeof source === 'string' ? source : 'scenario' });
    const contactId = String(r.contact._id);
    const set: Record<string, unknown> = {};
    const when = (v: unknown, field: string): Date => {
      if (typeof v === 'string' && /^-\d/.test(v)) {
        const ms = parseDuration(v.slice(1));
        if (ms === null) throw new Error(`${scenario.name}: ${field} "${v}" is not "-<duration>" like -120d`);
        return new Date(t0.getTime() - ms);
      }
      const d = new Date(String(v));
      if (Number.isNaN(d.getTime())) throw new Error(`${scenario.name}: ${field} "${String(v)}" is not a date or "-<duration>"`);
      return d;
    };
    if (emailStatus !== undefined) set.emailStatus = emailStatus;
    if (typeof birthday === 'string' && /^\+\d/.test(birthday)) {
      const d = new Date(t0.getTime() + (parseDuration(birthday.slice(1)) ?? NaN));
      if (Number.isNaN(d.getTime())) throw new Error(`${scenario.name}: birthday "${birthday}" is not "+<duration>" like +3d`);
      const md = `${String(d.getUTCMonth() + 1).padStart(2, '0')}-${String(d.getUTCDate()).padStart(2, '0')}`;
      set.birthday = { month: d.getUTCMonth() + 1, day: d.getUTCDate() };
      set.birthdayMonthDay = md;
    }
    if (lastActivityAt !== undefined) set.lastActivityAt = when(lastActivityAt, 'lastActivityAt');
    // Custom attributes may be relative dates too: `renewalDate: +30d` is the (UTC) calendar date 30 days after the start.
    const attributes = input.attributes && typeof input.attributes === 'object' ? input.attributes as Record<string, unknown> : {};
    for (const [k, v] of Object.entries(attributes)) {
      const m = typeof v === 'string' ? /^([+-])(\d.*)$/.exec(v) : null;
      const ms = m ? parseDuration(m[2]) : null;
      if (m && ms !== null) set[`attributes.${k}`] = new Date(t0.getTime() + (m[1] === '-' ? -ms : ms)).toISOString().slice(0, 10);
    }
    if (emailVerifiedAt !== undefined) set.emailVerifiedAt = when(emailVerifiedAt, 'emailVerifiedAt');
    set.createdAt = createdAt !== undefined ? when(createdAt, 'createdAt') : t0;
    await ContactModel.updateOne({ _id: r.contact._id }, { $set: set }).exec();
    return { contactId, email };
  }

  private async play(
    a: ScenarioAction,
    ctx: { plan: JourneyPlan; contactId: string; email: string; consumed: Set<string>; file: ScenarioFile; runs: Set<string>; zone: string; owner: { id: string; email: string } | null },
  ): Promise<Check | null> {
    const label = (text: string) => ({ line: a.line, text });
    switch (a.kind) {
      case 'event': {
        // A keyed journey's runs have ids with their key (one per order...): remember the one this event
        // starts, the way the dispatcher names it, so settling and expect_run find it without a visibility query.
        const key = eventTriggers(ctx.plan).some((t) => t.event === a.name) ? entryKeyOf(ctx.plan, { name: a.name, at: this.clock.now(), data: a.data }) : null;
        if (key && 'key' in key) ctx.runs.add(keyedWorkflowId(ctx.plan.journeyId, ctx.contactId, key.key));
        return this.postEvent(ctx.contactId, a.name, a.data, label(`event ${a.name}`));
      }
      case 'advance':
        await this.settle(ctx);
        await this.env.sleep(a.ms);
        await this.clock.sync(this.env);
        return null;
      case 'advance_to': {
        await this.settle(ctx);
        const now = (await this.now()).getTime();
        await this.env.sleep(nextHolidayInstant(now, a.holiday, a.offsetDays, a.at) - now);
        await this.clock.sync(this.env);
        return null;
      }
      case 'run_scan':
        await this.runScan(ctx.plan);
        return null;
      case 'open':
      case 'click': {
        const what = label(`${a.by === 'person' ? '' : `a ${a.by} `}${a.kind === 'open' ? 'opens' : 'clicks'} the "${a.template}" email`);
        const mail = await this.emailWith(ctx.contactId, a.template, a.kind === 'open' ? 'o' : 'r');
        if (!mail) return { ...what, ok: false, detail: `no "${a.template}" email with a ${a.kind === 'open' ? 'tracking pixel' : 'tracked link'} was received` };
        const url = linksIn(mail.html, this.config.publicBaseUrl, a.kind === 'open' ? 'o' : 'r')[0];
        if (a.by === 'person') await this.waitLikeAPerson(mail);
        if (a.kind === 'open') {
          const res = await fetch(url, { headers: { 'user-agent': a.by === 'person' ? BROWSER_UA : a.by === 'proxy' ? PROXY_UA : SCANNER_UA } });
          await res.arrayBuffer();
          return res.status === 200 ? null : { ...what, ok: false, detail: `the open pixel answered ${res.status}` };
        }
        // A scanner checks the link with HEAD, then fetches it, at once; a person follows it in a browser.
        if (a.by !== 'person') await fetch(url, { method: 'HEAD', redirect: 'manual', headers: { 'user-agent': SCANNER_UA } }).then((r) => r.arrayBuffer());
        const res = await fetch(url, { redirect: 'manual', headers: { 'user-agent': a.by === 'person' ? BROWSER_UA : SCANNER_UA } });
        await res.arrayBuffer();
        return res.status === 302 ? null : { ...what, ok: false, detail: `the click redirect answered ${res.status}` };
      }
      case 'confirm':
      case 'verify': {
        const kind = a.kind === 'confirm' ? 'c' : 'v';
        const what = label(`presses the ${a.kind} button of the ${a.template ? `"${a.template}" ` : ''}email`);
        const mail = await this.emailWith(ctx.contactId, a.template, kind);
        if (!mail) return { ...what, ok: false, detail: `no ${a.template ? `"${a.template}" ` : ''}email with a ${a.kind} link was received` };
        await this.waitLikeAPerson(mail);
        return this.pressButton(linksIn(mail.html, this.config.publicBaseUrl, kind)[0], new URLSearchParams(), what);
      }
      case 'unsubscribe': {
        const what = label(`unsubscribes with one click from the ${a.template ? `"${a.template}" ` : ''}email`);
        const mail = await this.emailWith(ctx.contactId, a.template, 'u');
        const url = mail ? /<(https?:[^>]+)>/.exec(mail.listUnsubscribe)?.[1] : undefined;
        if (!mail || !url) return { ...what, ok: false, detail: 'no email with a List-Unsubscribe link was received' };
        // RFC 8058: the mail client POSTs List-Unsubscribe=One-Click to the header's https URL.
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': BROWSER_UA }, body: 'List-Unsubscribe=One-Click' });
        await res.text();
        return res.status === 200 ? null : { ...what, ok: false, detail: `the one-click unsubscribe answered ${res.status}` };
      }
      case 'preferences': {
        const what = label(`saves preferences (keeps ${a.keep.join(', ') || 'no topic'}${a.pauseDays ? `, pauses ${a.pauseDays} days` : ''}${a.unsubscribeAll ? ', unsubscribes from all' : ''})`);
        const mail = await this.emailWith(ctx.contactId, a.template, 'p');
        if (!mail) return { ...what, ok: false, detail: 'no email with a preference-centre link was received' };
        await this.waitLikeAPerson(mail);
        const url = linksIn(mail.html, this.config.publicBaseUrl, 'p')[0];
        const page = await fetch(url, { headers: { 'user-agent': BROWSER_UA } });
        const html = await page.text();
        const offered = [...html.matchAll(/name="topics" value="([^"]+)"/g)].map((m) => m[1]);
        const missing = a.keep.filter((t) => !offered.includes(t));
        if (page.status !== 200 || missing.length) return { ...what, ok: false, detail: page.status !== 200 ? `the preference page answered ${page.status}` : `the form offers no topic ${missing.join(', ')} (it offers ${offered.join(', ')})` };
        const form = new URLSearchParams();
        for (const t of a.keep) form.append('topics', t);
        form.append('pause', a.pauseDays ? String(a.pauseDays) : '');
        if (a.unsubscribeAll) form.append('unsubscribe_all', '1');
        return this.submitForm(html, url, form, what);
      }
      case 'answer_survey': {
        const what = label(`answers the ${a.template ? `"${a.template}" ` : ''}survey with ${a.score}${a.comment ? ` and "${a.comment}"` : ''} on the page behind its rating link`);
        const mail = await this.emailWith(ctx.contactId, a.template, 's');
        if (!mail) return { ...what, ok: false, detail: 'no email with survey rating links was received' };
        // The person clicks the link whose label is their score: n stars (CSAT) or the number n (NPS).
        const rated = ratingLinksIn(mail.html, this.config.publicBaseUrl);
        const url = rated.find((l) => l.score === a.score)?.url;
        if (!url) return { ...what, ok: false, detail: `the email has no link for ${a.score} (it offers ${rated.map((l) => l.score).join(', ')})` };
        await this.waitLikeAPerson(mail);
        const page = await fetch(url, { headers: { 'user-agent': BROWSER_UA } });
        const html = await page.text();
        if (page.status !== 200) return { ...what, ok: false, detail: `the survey page answered ${page.status}` };
        const chosen = /name="score" value="(\d+)" checked/.exec(html)?.[1];
        if (chosen !== String(a.score)) return { ...what, ok: false, detail: `the page preselected ${chosen ?? 'nothing'}, not the clicked ${a.score}` };
        const form = new URLSearchParams({ score: chosen, comment: a.comment ?? '' });
        return this.submitForm(html, url, form, what);
      }
      case 'expect_owner_email': {
        const text = `the owner receives the "${a.template ?? 'owner_task'}" email${a.subject ? ` with "${a.subject}" in the subject` : ''} in the inbox`;
        if (!ctx.owner) return { ...label(text), ok: false, detail: 'the scenario has no owner' };
        const owner = ctx.owner;
        const match = (e: SentEmail) => !ctx.consumed.has(e.key) && e.to.toLowerCase() === owner.email.toLowerCase() && e.templateId === (a.template ?? 'owner_task') && (!a.subject || e.subject.includes(a.subject));
        const list = await this.waitFor(() => this.sentEmails(ctx.contactId), (l) => l.some(match));
        const hit = list.find(match);
        if (!hit) return { ...label(text), ok: false, detail: `no such email to the owner; got: ${list.map((e) => `${e.templateId} to ${e.to === owner.email ? 'the owner' : 'someone else'}`).join(', ') || 'nothing'}` };
        ctx.consumed.add(hit.key);
        return { ...label(text), ok: true, detail: `"${hit.subject}"` };
      }
      case 'expect_task': {
        const text = `a task${a.title ? ` "${a.title}"` : ''}${a.status ? ` (${a.status})` : ''} exists for the contact${ctx.owner ? ', assigned to the owner' : ''}`;
        type ApiTask = { id: string; title: string; status: string; ownerId: string | null };
        const ok = (t: ApiTask) => (!a.title || t.title.includes(a.title)) && (!a.status || t.status === a.status) && (!ctx.owner || t.ownerId === ctx.owner.id);
        const tasks = await this.waitFor(async () => ((await this.apiGet(`/v1/tasks?contactId=${ctx.contactId}`)).body as { tasks?: ApiTask[] }).tasks ?? [], (l) => l.some(ok));
        return { ...label(text), ok: tasks.some(ok), detail: tasks.some(ok) ? undefined : `tasks: ${JSON.stringify(tasks.map((t) => ({ title: t.title, status: t.status, ownerId: t.ownerId })))}` };
      }
      case 'close_task': {
        const what = label(`the owner closes the task${a.resolution ? ` ("${a.resolution}")` : ''}`);
        type ApiTask = { id: string; status: string };
        const tasks = await this.waitFor(async () => ((await this.apiGet(`/v1/tasks?contactId=${ctx.contactId}&status=open`)).body as { tasks?: ApiTask[] }).tasks ?? [], (l) => l.length > 0);
        if (!tasks.length) return { ...what, ok: false, detail: 'no open task for the contact' };
        const res = await fetch(`${this.config.publicBaseUrl}/v1/tasks/${tasks[0].id}/close`, {
          method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${this.config.apiKey}` }, body: JSON.stringify(a.resolution ? { resolution: a.resolution } : {}),
        });
        const body = await res.text();
        return res.status === 200 ? null : { ...what, ok: false, detail: `POST /v1/tasks/{id}/close answered ${res.status}: ${body.slice(0, 200)}` };
      }
      case 'expect_email': {
        const text = `receives the "${a.template}" email${a.subject ? ` with "${a.subject}" in the subject` : ''}`;
        const match = (e: SentEmail) => !ctx.consumed.has(e.key) && !isOwners(e, ctx.owner) && e.templateId === a.template && (!a.subject || e.subject.includes(a.subject));
        const list = await this.waitFor(() => this.sentEmails(ctx.contactId), (l) => l.some(match));
        const hit = list.find(match);
        if (!hit) {
          const got = list.filter((e) => !ctx.consumed.has(e.key)).map((e) => `${e.templateId} "${e.subject}"`);
          // A send that failed (a template error names its file:line) ends the run: say so on this line.
          const failures = await this.runFailures(ctx);
          const failed = failures.length ? `; the send failed: ${failures.join('; ')}` : '';
          return { ...label(text), ok: false, detail: `${got.length ? `got instead: ${got.join(', ')}` : 'no new email'}${failed}` };
        }
        ctx.consumed.add(hit.key);
        if (hit.to.toLowerCase() !== ctx.email.toLowerCase()) return { ...label(text), ok: false, detail: `sent to ${hit.to}, not to the contact` };
        if (a.at) {
          const local = DateTime.fromJSDate(hit.sentAt ?? hit.createdAt, { zone: ctx.zone }).toFormat('yyyy-MM-dd HH:mm');
          if (!local.endsWith(` ${a.at}`)) return { ...label(`${text} at ${a.at} ${ctx.zone}`), ok: false, detail: `sent at ${local} ${ctx.zone}` };
          return { ...label(`${text} at ${a.at} ${ctx.zone}`), ok: true, detail: `"${hit.subject}", ${local}` };
        }
        return { ...label(text), ok: true, detail: `"${hit.subject}"` };
      }
      case 'expect_no_email': {
        // With an owner, the owner's unexpected task emails count too (expect_owner_email consumes the expected ones).
        const text = a.template ? `receives no "${a.template}" email` : ctx.owner ? 'no other email goes to the contact or the owner' : 'receives no other email';
        await this.settle(ctx);
        const extra = (await this.sentEmails(ctx.contactId)).filter((e) => !ctx.consumed.has(e.key) && (!a.template || e.templateId === a.template));
        return { ...label(text), ok: extra.length === 0, detail: extra.length ? `got: ${extra.map((e) => e.templateId).join(', ')}` : undefined };
      }
      case 'expect_contact': {
        const text = `contact has ${Object.entries(a.fields).map(([k, v]) => `${k} ${JSON.stringify(v)}`).join(', ')}`;
        let last: Record<string, unknown> = {};
        const ok = await this.waitFor(async () => {
          const doc = await getContact(ctx.contactId);
          last = doc ? (toContactView(doc) as unknown as Record<string, unknown>) : {};
          return Object.entries(a.fields).every(([k, v]) => fieldMatches(get(last, k), v));
        }, (v) => v);
        const actual = Object.fromEntries(Object.keys(a.fields).map((k) => [k, get(last, k)]));
        return { ...label(text), ok, detail: ok ? undefined : `actual: ${JSON.stringify(actual)}` };
      }
      case 'expect_run': {
        const text = `${a.key !== undefined ? `run for key ${a.key} ` : 'run '}${a.ended ? `ends ${a.ended}${a.reason ? ` (${a.reason})` : ''}` : `waits for ${a.waitingFor}`}`;
        const handle = this.client.workflow.getHandle(a.key !== undefined ? keyedWorkflowId(ctx.plan.journeyId, ctx.contactId, a.key) : await this.runId(ctx.plan, ctx.contactId, ctx.runs));
        if (a.ended && a.ended !== 'running') {
          // The run must have ended by now (simulated time does not move while we wait).
          const closed = await this.waitFor(() => handle.describe().then((d) => d.status.name !== 'RUNNING', () => false), (v) => v);
          if (!closed) return { ...label(text), ok: false, detail: 'the run is still going' };
          const result = await (handle.result() as Promise<JourneyResult>).catch((err: Error) => ({ outcome: 'failed', reason: err.message }) as unknown as JourneyResult);
          const ok = result.outcome === a.ended && (!a.reason || result.reason === a.reason);
          return { ...label(text), ok, detail: ok ? undefined : `ended ${result.outcome} (${result.reason})` };
        }
        let status: { waitingFor: string | null; step: string | null } | null = null;
        const ok = await this.waitFor(async () => {
          status = await handle.query(statusQuery).catch(() => null);
          return !!status && (!a.waitingFor || status.waitingFor === a.waitingFor || status.step === a.waitingFor);
        }, (v) => v);
        const s = status as { waitingFor: string | null; step: string | null } | null;
        return { ...label(text), ok, detail: ok ? undefined : s ? `at ${s.step}, waiting for ${s.waitingFor}` : 'no running run' };
      }
    }
  }

  /** An integration event through the real API, at the simulated time. */
  private async postEvent(contactId: string, name: string, data: Record<string, unknown>, what: { line: number; text: string }): Promise<Check | null> {
    const res = await fetch(`${this.config.publicBaseUrl}/v1/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${this.config.apiKey}` },
      body: JSON.stringify({ eventId: randomUUID(), contactId, name, at: this.clock.now().toISOString(), data }),
    });
    const body = await res.text();
    return res.status === 200 || res.status === 202 ? null : { ...what, ok: false, detail: `POST /v1/events answered ${res.status}: ${body.slice(0, 200)}` };
  }

  /** The newest email (of `template`, if given) whose HTML or List-Unsubscribe header carries a link of this kind. */
  private async emailWith(contactId: string, template: string | undefined, kind: LinkKind): Promise<SentEmail | undefined> {
    const has = (e: SentEmail) => (!template || e.templateId === template) && (kind === 'u' ? /<https?:/.test(e.listUnsubscribe) : linksIn(e.html, this.config.publicBaseUrl, kind).length > 0);
    const list = await this.waitFor(() => this.sentEmails(contactId), (l) => l.some(has));
    return list.filter(has).pop();
  }

  /** A person reads the email before acting: simulated time moves to at least 15 s after it was sent. */
  private async waitLikeAPerson(mail: SentEmail): Promise<void> {
    const sent = (mail.sentAt ?? mail.createdAt).getTime();
    const lag = sent + HUMAN_DELAY_MS - this.clock.now().getTime();
    if (lag > 0) {
      await this.env.sleep(lag);
      await this.clock.sync(this.env);
    }
  }

  /** Opens a button page (GET changes nothing) and presses its button: POSTs the form's hidden fields to its action. */
  private async pressButton(url: string, extra: URLSearchParams, what: { line: number; text: string }): Promise<Check | null> {
    const page = await fetch(url, { headers: { 'user-agent': BROWSER_UA } });
    const html = await page.text();
    if (page.status !== 200) return { ...what, ok: false, detail: `the page behind the link answered ${page.status}` };
    const form = new URLSearchParams(extra);
    for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]*)"/.exec(m[0])?.[1];
      const value = /value="([^"]*)"/.exec(m[0])?.[1] ?? '';
      if (name) form.append(name, value);
    }
    return this.submitForm(html, url, form, what);
  }

  private async submitForm(html: string, pageUrl: string, form: URLSearchParams, what: { line: number; text: string }): Promise<Check | null> {
    const action = /<form[^>]*action="([^"]*)"/.exec(html)?.[1];
    if (!action) return { ...what, ok: false, detail: 'the page has no form' };
    const res = await fetch(new URL(action.replace(/&amp;/g, '&'), pageUrl), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': BROWSER_UA }, body: form.toString() });
    await res.text();
    return res.status === 200 ? null : { ...what, ok: false, detail: `the form POST answered ${res.status}` };
  }

  /** Starts the journey's audience or birthday scan now, as its schedule would, and waits for it. */
  private async runScan(plan: JourneyPlan): Promise<void> {
    const triggers = [plan.trigger, ...(plan.extraTriggers ?? [])];
    const scanAt = (await this.now()).toISOString();
    for (const t of triggers) {
      if (t.kind === 'event') continue;
      const workflow = t.kind === 'date' ? 'birthdayScan' : 'audienceScan';
      await this.client.workflow.execute(workflow, {
        taskQueue: TASK_QUEUE, workflowId: `scan/${plan.journeyId}/${randomUUID()}`, args: [{ journeyId: plan.journeyId, scanAt }],
      });
    }
  }

  /** Workflow id of the contact's newest run in the journey. */
  private async runId(plan: JourneyPlan, contactId: string, runs: Set<string>): Promise<string> {
    const base = plan.entryKey ? [...runs].pop() ?? journeyWorkflowId(plan.journeyId, contactId) : journeyWorkflowId(plan.journeyId, contactId);
    const docs = await Send.find({ contactId, journeyId: plan.journeyId }).sort({ createdAt: -1 }).limit(1).lean();
    if (docs[0]?.workflowId) return String(docs[0].workflowId);
    if (plan.trigger.kind === 'date' || plan.entry.kind === 'every') {
      // Periodic ids carry a period suffix; find the newest run by trying the plain id's variants.
      for (const id of await this.candidateIds(plan, contactId)) {
        try {
          await this.client.workflow.getHandle(id).describe();
          return id;
        } catch {
          /* not this one */
        }
      }
    }
    return base;
  }

  private async candidateIds(plan: JourneyPlan, contactId: string): Promise<string[]> {
    return candidateIds(plan.journeyId, contactId, plan, (await this.now()).toISOString());
  }

  /** Why this scenario's runs failed, if any did (the innermost cause: a template error's file:line and variable). */
  private async runFailures(ctx: { plan: JourneyPlan; contactId: string; runs: Set<string> }): Promise<string[]> {
    const out: string[] = [];
    for (const id of new Set([journeyWorkflowId(ctx.plan.journeyId, ctx.contactId), ...await this.candidateIds(ctx.plan, ctx.contactId), ...ctx.runs])) {
      const handle = this.client.workflow.getHandle(id);
      const d = await handle.describe().catch(() => null);
      if (d?.status.name !== 'FAILED') continue;
      const err = await handle.result().then(() => null, (e: unknown) => e as Error & { cause?: unknown });
      let cause: (Error & { cause?: unknown }) | null = err;
      while (cause?.cause instanceof Error) cause = cause.cause as Error & { cause?: unknown };
      if (cause) out.push(cause.message);
    }
    return out;
  }

  /** Emails the contact got, from the send ledger (template, key) and the SMTP server (subject, To). */
  private async sentEmails(contactId: string): Promise<SentEmail[]> {
    const rows = await Send.find({ contactId, status: 'sent' }).sort({ createdAt: 1 }).lean();
    const parsed = await Promise.all(this.smtp.messages.map((raw) => simpleParser(raw)));
    const byId = new Map(parsed.map((m) => [m.messageId, m]));
    return rows.map((r) => {
      const m = byId.get(String(r.messageId));
      const to = m?.to && !Array.isArray(m.to) ? m.to.value[0]?.address ?? '' : '';
      // The raw header line (mailparser folds List-* headers into an object).
      const listUnsubscribe = m?.headerLines.find((h) => h.key === 'list-unsubscribe')?.line.replace(/^list-unsubscribe:\s*/i, '').replace(/\r?\n\s+/g, ' ') ?? '';
      return {
        key: String(r.key), templateId: String(r.templateId), messageId: String(r.messageId), subject: m?.subject ?? '', to,
        createdAt: r.createdAt as Date, sentAt: (r.sentAt as Date | null) ?? null, html: typeof m?.html === 'string' ? m.html : '', listUnsubscribe,
      };
    });
  }

  /**
   * Waits (wall clock) until the runs of this scenario's contact are idle: closed, or blocked on a timer
   * or a signal with nothing in flight (the last history event is TimerStarted or WorkflowTaskCompleted:
   * no workflow task, activity or delivered-but-unhandled signal pending), and the ledger stopped moving.
   * Only then may simulated time move on, or an absence of email be asserted.
   */
  private async settle(ctx: { plan: JourneyPlan; contactId: string; runs: Set<string> }): Promise<void> {
    let previous = '';
    const deadline = Date.now() + SETTLE_MS;
    while (Date.now() < deadline) {
      const states: string[] = [];
      let busy = false;
      for (const id of new Set([...await this.candidateIds(ctx.plan, ctx.contactId), ...ctx.runs])) {
        const handle = this.client.workflow.getHandle(id);
        const d = await handle.describe().catch(() => null);
        if (!d) continue;
        if (d.status.name !== 'RUNNING') {
          states.push(`${id}:${d.status.name}`);
          continue;
        }
        const events = (await handle.fetchHistory()).events ?? [];
        const last = events[events.length - 1]?.eventType;
        if (last !== EventType.EVENT_TYPE_TIMER_STARTED && last !== EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) busy = true;
        states.push(`${id}:${events.length}:${last}`);
      }
      const now = `${states.join('|')}#${await Send.countDocuments({ contactId: ctx.contactId })}`;
      if (!busy && now === previous) return;
      previous = now;
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private async waitFor<T>(read: () => Promise<T>, done: (v: T) => boolean): Promise<T> {
    const deadline = Date.now() + SETTLE_MS;
    let v = await read();
    while (!done(v) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      v = await read();
    }
    return v;
  }
}

type LinkKind = 'o' | 'r' | 'c' | 'v' | 'p' | 'u' | 's';

/** An email to the scenario's owner (a task notification), not one the contact received. */
function isOwners(e: SentEmail, owner: { email: string } | null): boolean {
  return owner !== null && e.to.toLowerCase() === owner.email.toLowerCase();
}

/** Survey rating links with the score each one shows: the count of filled stars (CSAT) or the number (NPS). */
export function ratingLinksIn(html: string, baseUrl: string): { url: string; score: number }[] {
  const out: { url: string; score: number }[] = [];
  for (const m of html.matchAll(/<a [^>]*href="([^"]+)"[^>]*>([^<]*)<\/a>/g)) {
    const url = m[1].replace(/&amp;/g, '&');
    if (!url.startsWith(`${baseUrl}/s/`)) continue;
    const label = m[2].trim();
    const score = label.includes('★') || label.includes('☆') ? [...label].filter((c) => c === '★').length : Number(label);
    if (Number.isInteger(score)) out.push({ url, score });
  }
  return out;
}

/** The public-endpoint links of one kind in an email's HTML (tracked links /r/, pixel /o/, confirm /c/, ...). */
export function linksIn(html: string, baseUrl: string, kind: LinkKind): string[] {
  const prefix = `${baseUrl}/${kind}/`;
  const out: string[] = [];
  for (const m of html.matchAll(/(?:href|src)="([^"]+)"/g)) {
    const url = m[1].replace(/&amp;/g, '&');
    if (url.startsWith(prefix)) out.push(url);
  }
  return out;
}

/** Milliseconds from `now` to the next `HH:MM` UTC at least one minute away. */
/** The first instant after `now` at `hhmm` UTC on a holiday's date moved by `offsetDays`. */
export function nextHolidayInstant(now: number, holiday: HolidayName, offsetDays: number, hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  for (let y = new Date(now).getUTCFullYear() - 1; ; y++) {
    const d = holidayDate(holiday, y);
    const t = Date.UTC(d.year, d.month - 1, d.day + offsetDays, h, m);
    if (t > now) return t;
  }
}

export function msUntilNext(now: Date, hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  const next = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), h, m));
  while (next.getTime() - now.getTime() < 60_000) next.setUTCDate(next.getUTCDate() + 1);
  return next.getTime() - now.getTime();
}

function get(o: Record<string, unknown>, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
}

/** A list expectation means "contains all of these" (an empty list: "is empty"); anything else must be equal. */
export function fieldMatches(actual: unknown, expected: unknown): boolean {
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return false;
    return expected.length === 0 ? actual.length === 0 : expected.every((e) => actual.includes(e));
  }
  if (expected === null) return actual === null || actual === undefined;
  return JSON.stringify(actual) === JSON.stringify(expected);
}

/** One line per expectation, the way a marketer reads it. */
export function formatOutcome(o: ScenarioOutcome): string {
  const lines = [`${o.ok ? '✓' : '✗'} ${o.name}  (${o.file}:${o.line})`];
  for (const c of o.checks) lines.push(`    ${c.ok ? '✓' : '✗'} ${c.text}${c.detail ? ` — ${c.detail}` : ''}  (line ${c.line})`);
  if (o.error) lines.push(`    ✗ ${o.error}`);
  return lines.join('\n');
}

/**
 * Records the replay fixtures: runs each shipped journey (compiled from journeys/) and one run of every
 * engine feature on the time-skipping server with the real interpreter and activities, and writes each
 * history to test/replay/fixtures/<name>.json. Re-record after an intentional, patched workflow change:
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27103/replay npx tsx test/replay/record.ts
 *
 * REPLAY_SUFFIX=local-data writes `<name>@local-data.json` instead, next to the earlier recordings, so
 * histories from before a patch stay and keep proving the old branch replays.
 *
 * (The database is dropped at the end.)
 */
import fs from 'node:fs';
import path from 'node:path';
import mongoose from 'mongoose';
import { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandle } from '@temporalio/client';
import { ensureSendLedgerIndexes } from '../../data/send-ledger';
import { saveJourneyVersion } from '../../data/journey-versions';
import { upsertContact } from '../../data/contacts';
import { buildWorker } from '../../worker/build-worker';
import { testDataConverter } from '../helpers/temporal';
import { deployJourneys } from '../../engine/deploy';
import { createEventDispatcher } from '../../engine/dispatch';
import { registerSearchAttributes } from '../../engine/search-attributes';
import { eventSignal, journeyWorkflowId, statusQuery } from '../../workflows/definitions';
import { PLAN_FORMAT, type JourneyPlan, type Step } from '../../rules/plan';
import { workflowBundle } from '../workflow/bundle';

const FIXTURES = path.join(__dirname, 'fixtures');
const DAY = 86_400_000;
const taskQueue = 'replay-record';

async function newContact(extra: Record<string, unknown> = {}): Promise<string> {
  const r = await upsertContact({ email: `r${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}@example.com`, timezone: 'Asia/Shanghai', consent: { email: 'subscribed' }, firstName: 'Ana', ...extra });
  await mongoose.connection.collection('contacts').updateOne({ _id: r.contact._id }, { $set: { emailStatus: 'verified' } });
  return String(r.contact._id);
}

function syntheticPlan(journeyId: string, steps: Step[], extra: Partial<JourneyPlan> = {}): JourneyPlan {
  const p: JourneyPlan = {
    planFormat: PLAN_FORMAT, journeyId, name: journeyId, hash: `${journeyId}-v1`, trigger: { kind: 'event', event: 'test' },
    entry: { kind: 'once' }, settings: { defaultTimezone: 'UTC' }, start: steps[0].id, steps: Object.fromEntries(steps.map((s) => [s.id, s])),
    templates: {}, segments: {}, ruleSets: {}, ...extra,
  };
  return p;
}

async function save(name: string, handle: WorkflowHandle): Promise<void> {
  const history = await handle.fetchHistory();
  // Binary protobuf in base64: the SDK's historyToJSON trips over two protobufjs copies in this install.
  const data = Buffer.from(temporal.api.history.v1.History.encode(temporal.api.history.v1.History.fromObject(history)).finish()).toString('base64');
  const eventTypes = (history.events ?? []).map((e) => temporal.api.enums.v1.EventType[e.eventType ?? 0]);
  const fixture = { format: 'temporal.api.history.v1.History+base64', workflowId: handle.workflowId, events: eventTypes.length, eventTypes, data };
  fs.writeFileSync(path.join(FIXTURES, `${name}${process.env.REPLAY_SUFFIX ? `@${process.env.REPLAY_SUFFIX}` : ''}.json`), JSON.stringify(fixture, null, 1) + '\n');
  console.log(`recorded ${name}: ${history.events?.length} events`);
}

async function until(handle: WorkflowHandle, pred: (s: Awaited<ReturnType<typeof statusOf>>) => boolean): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (pred(await statusOf(handle))) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`run did not reach the expected state: ${JSON.stringify(await statusOf(handle))}`);
}
const statusOf = (h: WorkflowHandle) => h.query(statusQuery);

async function main(): Promise<void> {
  const uri = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27103/replay_record';
  await mongoose.connect(uri);
  await mongoose.connection.dropDatabase();
  await ensureSendLedgerIndexes();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: process.env.SOJOURN_TEST_SERVER_BIN ?? '/tmp/prov/tts/bin/temporal-test-server' } },
    client: { dataConverter: testDataConverter() },
  });
  await registerSearchAttributes(env.connection);
  const worker = await buildWorker({ connection: env.nativeConnection, client: env.client, taskQueue, workflowBundle: await workflowBundle() });
  const running = worker.run();
  try {
    fs.mkdirSync(FIXTURES, { recursive: true });
    const deployed = await deployJourneys([path.join(__dirname, '..', '..', 'journeys')], { taskQueue });
    if (!deployed.ok) throw new Error(deployed.messages.join('\n'));
    const version = (id: string) => deployed.journeys.find((j) => j.journeyId === id)!.version;
    const start = (journeyId: string, contactId: string, extra = {}) =>
      env.client.workflow.start('journey', { taskQueue, workflowId: journeyWorkflowId(journeyId, contactId), args: [{ journeyId, version: version(journeyId), contactId, ...extra }] });

    // The shipped journeys, each through its longest path.
    const dispatcher = createEventDispatcher({ client: env.client, taskQueue });
    const w = await newContact({ source: 'signup_form' });
    await dispatcher.dispatch({ contactId: w, name: 'contact.created', at: new Date(), eventId: 'rec-welcome', data: {} });
    const welcome = env.client.workflow.getHandle(journeyWorkflowId('welcome', w));
    await welcome.result();
    await save('journey-welcome', welcome);

    const b = await newContact({ birthday: { month: 2, day: 29 } });
    const birthday = await start('birthday', b, { entryWait: { until: new Date(Date.now() + 2 * DAY).toISOString(), reason: 'birthday at 09:00 local time' } });
    await birthday.result();
    await save('journey-birthday', birthday);

    const r = await newContact();
    const reengagement = await start('reengagement', r);
    await reengagement.result();
    await save('journey-reengagement', reengagement);

    const v = await newContact();
    const verification = await start('verification', v);
    await verification.result();
    await save('journey-verification', verification);

    // Engine features the shipped journeys do not all reach.
    const kinds = syntheticPlan('replay-kinds', [
      { id: 'rank', kind: 'classify', ruleSet: 'importance', next: 'ab' },
      { id: 'ab', kind: 'split', next: 'promo', branches: [{ name: 'a', weight: 100, start: null, holdout: false }] },
      { id: 'promo', kind: 'send', template: 'welcome', marketing: true, next: 'click' },
      { id: 'click', kind: 'wait_for', event: 'email.clicked', timeoutMs: 3 * DAY, onTimeout: null, next: 'vip' },
      { id: 'vip', kind: 'if', cond: { source: 'contact.importance == "vip"' }, then: 'tag', else: null, next: 'nap' },
      { id: 'tag', kind: 'update', addTags: ['clicked'], set: { lifecycle: 'active' }, next: 'nap' },
      { id: 'nap', kind: 'wait', mode: 'duration', ms: 5 * DAY, next: 'bye' },
      { id: 'bye', kind: 'exit', outcome: 'exited', reason: 'done', next: null },
    ], {
      goal: { event: 'order.completed' }, exitWhen: { source: 'contact.consent.email == "unsubscribed"' },
      templates: { welcome: { id: 'welcome', marketing: true } },
      ruleSets: { importance: { name: 'importance', field: 'importance', otherwise: 'normal', rules: [{ value: 'vip', when: { source: 'true' }, reason: 'all' }] } },
    });
    await saveJourneyVersion(kinds, JSON.stringify(kinds));
    const k = await newContact();
    const kindsRun = await env.client.workflow.start('journey', { taskQueue, workflowId: journeyWorkflowId('replay-kinds', k), args: [{ journeyId: 'replay-kinds', version: 1, contactId: k }] });
    await until(kindsRun, (s) => s.step === 'click');
    await kindsRun.signal(eventSignal, { name: 'email.clicked', at: new Date().toISOString(), eventId: 'rec-click' });
    await until(kindsRun, (s) => s.step === 'nap');
    await kindsRun.signal(eventSignal, { name: 'order.completed', at: new Date().toISOString(), eventId: 'rec-order' });
    await kindsRun.result();
    await save('engine-step-kinds', kindsRun);

    const quiet = syntheticPlan('replay-quiet', [{ id: 'promo', kind: 'send', template: 'welcome', marketing: true, next: null }], {
      settings: { defaultTimezone: 'UTC', quietHours: { from: '00:00', to: '23:59' } }, templates: { welcome: { id: 'welcome', marketing: true } },
    });
    await saveJourneyVersion(quiet, JSON.stringify(quiet));
    const q = await newContact();
    const quietRun = await env.client.workflow.start('journey', { taskQueue, workflowId: journeyWorkflowId('replay-quiet', q), args: [{ journeyId: 'replay-quiet', version: 1, contactId: q }] });
    await quietRun.result();
    await save('engine-quiet-hours-defer', quietRun);

    const loop = syntheticPlan('replay-yearly', [
      { id: 'until_birthday', kind: 'wait', mode: 'date_field', field: 'birthday', at: '09:00', next: 'wish' },
      { id: 'wish', kind: 'send', template: 'birthday', marketing: false, next: 'until_birthday' },
    ]);
    await saveJourneyVersion(loop, JSON.stringify(loop));
    const y = await newContact({ birthday: { month: 3, day: 1 } });
    const yearly = await env.client.workflow.start('journey', { taskQueue, workflowId: journeyWorkflowId('replay-yearly', y), args: [{ journeyId: 'replay-yearly', version: 1, contactId: y }] });
    await env.sleep(400 * DAY);
    await save('engine-yearly-continue-as-new', env.client.workflow.getHandle(yearly.workflowId, yearly.firstExecutionRunId));
    await yearly.terminate('recorded');

    const scan = await env.client.workflow.start('audienceScan', { taskQueue, workflowId: 'replay-audience-scan', args: [{ journeyId: 'reengagement', pageSize: 2 }] });
    await scan.result();
    await save('scan-audience', scan);
    const bscan = await env.client.workflow.start('birthdayScan', { taskQueue, workflowId: 'replay-birthday-scan', args: [{ journeyId: 'birthday' }] });
    await bscan.result();
    await save('scan-birthday', bscan);
  } finally {
    worker.shutdown();
    await running.catch(() => undefined);
    await env.teardown();
    await mongoose.connection.dropDatabase();
    await mongoose.disconnect();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/**
 * Workflow-test harness for the engine: one time-skipping environment, one worker and one test
 * database per test file (`useEngine()`), a cached workflow bundle shared by all files, and small
 * builders for plans and contacts so each test reads as its scenario.
 */
import crypto from 'node:crypto';
import { DateTime } from 'luxon';
import mongoose from 'mongoose';
import { Client, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { temporal } from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import { Send, ensureSendLedgerIndexes, type SendDoc } from '../../data/send-ledger';
import { saveJourneyVersion } from '../../data/journey-versions';
import { PLAN_FORMAT, type JourneyPlan, type Step } from '../../rules/plan';
import { buildWorker, type BuildWorkerOptions } from '../../worker/build-worker';
import { workflowBundle } from './bundle';
import { registerSearchAttributes } from '../../engine/search-attributes';
import type { JourneyInput } from '../../workflows/definitions';
import { journeyWorkflowId } from '../../workflows/definitions';

// Until the test runner sets these, use the servers provisioned for this checkout (MONGODB_URI must be set).
process.env.SOJOURN_TEST_SERVER_BIN ??= '/tmp/prov/tts/bin/temporal-test-server';
process.env.TEMPORAL_CLI_BIN ??= '/tmp/prov/tb/bin/temporal';

// Imported after the defaults above are in place.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createTimeSkippingEnv, testDataConverter } = require('../helpers/temporal') as typeof import('../helpers/temporal');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { useTestDatabase } = require('../helpers/db') as typeof import('../helpers/db');

jest.setTimeout(60_000);

export interface Engine {
  env: TestWorkflowEnvironment;
  /**
   * A client that does not unlock time skipping when awaiting results. `env.client.result()` lets the
   * test server skip ahead freely, and once the run completes it jumps to a stale timer years away;
   * multi-step tests use this client and `advanceTo` instead.
   */
  client: Client;
  /** Skips the server clock to an instant (ISO), firing every timer on the way. */
  advanceTo(iso: string): Promise<void>;
  worker: Worker;
  taskQueue: string;
  /** Starts a run the way the dispatcher would (same id scheme), for a plan deployed with `deploy`. */
  start(plan: JourneyPlan & { version?: number }, contactId: string, extra?: Partial<JourneyInput>): Promise<WorkflowHandleWithFirstExecutionRunId>;
}

/** One time-skipping server, one worker and one fresh database for the whole test file. */
export function useEngine(opts: Partial<Omit<BuildWorkerOptions, 'connection' | 'taskQueue'>> = {}): Engine {
  useTestDatabase('engine');
  const engine = { taskQueue: `engine-${crypto.randomBytes(3).toString('hex')}` } as Engine;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    await ensureSendLedgerIndexes();
    engine.env = await createTimeSkippingEnv();
    await registerSearchAttributes(engine.env.connection);
    engine.worker = await buildWorker({
      ...opts, connection: engine.env.nativeConnection, client: engine.env.client, taskQueue: engine.taskQueue,
      workflowBundle: await workflowBundle(),
    });
    running = engine.worker.run();
    engine.client = new Client({ connection: engine.env.connection, dataConverter: testDataConverter() });
    engine.advanceTo = async (iso) => {
      const ms = Date.parse(iso) - (await engine.env.currentTimeMs());
      if (ms > 0) await engine.env.sleep(ms);
    };
    engine.start = async (plan, contactId, extra = {}) => {
      const version = plan.version ?? 1;
      return engine.env.client.workflow.start('journey', {
        taskQueue: engine.taskQueue,
        workflowId: journeyWorkflowId(plan.journeyId, contactId) + `/${crypto.randomBytes(3).toString('hex')}`,
        args: [{ journeyId: plan.journeyId, version, contactId, ...extra }],
      });
    };
  }, 120_000);
  afterAll(async () => {
    engine.worker?.shutdown();
    await running?.catch(() => undefined);
    await engine.env?.teardown();
  }, 60_000);
  return engine;
}

type StepSpec = Step extends infer S ? (S extends Step ? Omit<S, 'next'> & { next?: string | null } : never) : never;

/**
 * A plan from a list of steps; a step without `next` continues with the following one in the list
 * (the last ends the run). Branch steps name their own targets.
 */
export function plan(journeyId: string, steps: StepSpec[], extra: Partial<JourneyPlan> = {}): JourneyPlan {
  const map: Record<string, Step> = {};
  steps.forEach((s, i) => {
    map[s.id] = { ...s, next: s.next !== undefined ? s.next : (steps[i + 1]?.id ?? null) } as Step;
  });
  const templates: JourneyPlan['templates'] = {};
  for (const s of steps) if (s.kind === 'send') templates[s.template] = { id: s.template, marketing: s.marketing };
  const p: JourneyPlan = {
    planFormat: PLAN_FORMAT, journeyId, name: journeyId, hash: '', trigger: { kind: 'event', event: 'contact.created' },
    entry: { kind: 'once' }, settings: { defaultTimezone: 'UTC' }, start: steps[0]?.id ?? null, steps: map,
    templates, segments: {}, ruleSets: {}, ...extra,
  };
  p.hash = crypto.createHash('sha256').update(JSON.stringify({ ...p, hash: undefined })).digest('hex');
  return p;
}

/** Stores a plan as the next version of its journey; returns it with its version. */
export async function deploy(p: JourneyPlan): Promise<JourneyPlan & { version: number }> {
  const r = await saveJourneyVersion(p, JSON.stringify(p));
  return { ...p, version: r.version };
}

let contactSeq = 0;
/**
 * Creates a contact through the Contacts data layer (as the API would), then sets what only events
 * or operators change (email status, classification, suppression) directly. Returns its id.
 */
export async function contact(fields: {
  timezone?: string | null; consent?: 'subscribed' | 'unsubscribed' | 'pending'; emailStatus?: string; tags?: string[];
  birthday?: { month: number; day: number }; firstName?: string; lifecycle?: string; attributes?: Record<string, unknown>;
} = {}): Promise<string> {
  const { upsertContact } = await import('../../data/contacts');
  const r = await upsertContact({
    email: `person${Date.now().toString(36)}${contactSeq++}@example.com`, timezone: fields.timezone ?? 'UTC',
    consent: fields.consent === 'unsubscribed' ? {} : { email: fields.consent ?? 'subscribed' }, birthday: fields.birthday ?? null,
    tags: fields.tags ?? [], firstName: fields.firstName ?? 'Ana', attributes: fields.attributes ?? {},
  });
  const id = String(r.contact._id);
  const set: Record<string, unknown> = { emailStatus: fields.emailStatus ?? 'verified' };
  if (fields.consent === 'unsubscribed') set['consent.email.status'] = 'unsubscribed';
  if (fields.lifecycle) set['classification.lifecycle'] = { value: fields.lifecycle };
  if (fields.timezone === null) set.timezone = null;
  await changeContact(id, set);
  return id;
}

/** Changes a stored contact (what the Contacts API would do), by schema document paths. */
export async function changeContact(contactId: string, set: Record<string, unknown>): Promise<void> {
  const _id = /^[0-9a-f]{24}$/.test(contactId) ? new mongoose.Types.ObjectId(contactId) : contactId;
  await mongoose.connection.collection('contacts').updateOne({ _id: _id as never }, { $set: set });
}

/** Ledger rows of a contact, oldest first. */
export async function sendsOf(contactId: string): Promise<SendDoc[]> {
  return Send.find({ contactId }).sort({ createdAt: 1, _id: 1 }).lean<SendDoc[]>();
}

export async function contactDoc(contactId: string): Promise<Record<string, unknown>> {
  const _id = /^[0-9a-f]{24}$/.test(contactId) ? new mongoose.Types.ObjectId(contactId) : contactId;
  return (await mongoose.connection.collection('contacts').findOne({ _id: _id as never })) as Record<string, unknown>;
}

/** History sizes of every run in a continue-as-new chain, first run first (the test server has no visibility list). */
export async function historyLengthsOfChain(client: Client, workflowId: string, firstRunId: string): Promise<number[]> {
  const runs: number[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const events = (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
    runs.push(events.length);
    const last = events[events.length - 1] as { workflowExecutionContinuedAsNewEventAttributes?: { newExecutionRunId?: string | null } } | undefined;
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return runs;
}

export const HOUR = 3600_000;
export const DAY = 24 * HOUR;

/** Polls until `fn` returns a truthy value (real time; for states a run reaches without timers). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 10_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** entryWait input that holds a run until an absolute instant: how tests place a step at a given local time. */
export function startAt(isoInstant: string): Partial<JourneyInput> {
  return { entryWait: { until: isoInstant, reason: 'test clock' } };
}

/** The instant, to the second (timers fire a few milliseconds after their deadline). */
export function second(iso: string): string {
  return new Date(Math.floor(Date.parse(iso) / 1000) * 1000).toISOString();
}

/**
 * The test server's clock only moves forward, and after a run completes it jumps ahead (to the
 * 10-year default execution timeout). So tests never hard-code a year: `calendar()` picks the next
 * non-leap year after the server's clock and builds instants from local wall-clock times in it.
 */
export interface Calendar {
  /** A non-leap year in the server's future (its 1 January is > 30 days ahead). */
  year: number;
  /** The instant (ISO) of a local wall-clock time in a zone; `year` defaults to the calendar year. */
  local(zone: string, month: number, day: number, hour: number, minute?: number, year?: number): string;
  /** Day of month of the second Sunday of March (US spring-forward) in the calendar year. */
  secondSundayOfMarch(): number;
}

export async function calendar(engine: Engine): Promise<Calendar> {
  const now = await engine.env.currentTimeMs();
  let year = new Date(now).getUTCFullYear() + 1;
  while (isLeap(year) || Date.UTC(year, 0, 1) < now + 30 * DAY) year++;
  return {
    year,
    local: (zone, month, day, hour, minute = 0, y = year) => DateTime.fromObject({ year: y, month, day, hour, minute }, { zone }).toUTC().toISO()!,
    secondSundayOfMarch: () => {
      const first = DateTime.fromObject({ year, month: 3, day: 1 }, { zone: 'UTC' }).weekday; // 1 = Monday .. 7 = Sunday
      return 1 + ((7 - first) % 7) + 7;
    },
  };
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/**
 * The activity types a run called, in order, read from its history: activity tasks and local activities
 * (decision 36 records these as `core_local_activity` markers whose `data` detail names the type).
 */
export async function activityCalls(client: Client, workflowId: string): Promise<string[]> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const calls: string[] = [];
  for (const e of events) {
    const scheduled = e.activityTaskScheduledEventAttributes?.activityType?.name;
    if (scheduled) calls.push(scheduled);
    const local = await localActivityType(e);
    if (local) calls.push(local);
  }
  return calls;
}

/** The activity type of a local activity's marker event (null for any other event). */
export async function localActivityType(e: temporal.api.history.v1.IHistoryEvent): Promise<string | null> {
  const marker = e.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return null;
  const payloads = (marker.details?.data?.payloads ?? []) as temporal.api.common.v1.IPayload[];
  const decoded = await testDataConverter().payloadCodecs[0].decode(payloads as never);
  const meta = JSON.parse(Buffer.from(decoded[0]?.data ?? []).toString('utf8')) as { activity_type?: string };
  return meta.activity_type ?? '?';
}

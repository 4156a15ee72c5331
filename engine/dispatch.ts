/**
 * Events -> runs. For each event (handed over by the ingest, engine/ingest.ts):
 *  - journeys whose live version is triggered by this event start a run per the entry policy
 *    (signal-with-start; the trigger's `when` is evaluated here, against the contact, so that a
 *    non-matching event does not consume a "once" entry);
 *  - running runs of this contact that listen to it (wait_for, goal, exit_when) get it as the `event`
 *    signal, decided by the version each run is pinned to (a run started on version 1 keeps waiting
 *    for what version 1 waits for, whatever is live now). Run ids are deterministic, so no visibility
 *    query is needed: each candidate run is described (its SojournVersion search attribute).
 * Journeys are found through the event routes (data/event-routes.ts) and read by `_id`, both reused
 * for two seconds per process (data/journey-versions.ts `eventTargets`); plans come from a bounded
 * cache keyed by journey and version. Paused journeys refuse new entries but keep
 * receiving events for runs in flight.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { eventTargets, eventTriggers, getJourneyPlan, listensTo, type JourneyDoc } from '../data/journey-versions';
import { contactForDispatch } from '../data/journeys-entered';
import { contactFieldsChangedBy } from '../data/contact-events';
import type { SojournEvent } from '../data/contact-event-model';
import { evaluateBool } from '../rules/evaluate';
import type { JourneyPlan } from '../rules/plan';
import { periodKeyFor, startJourneyRun, type StartOutcome } from '../activities/start-run';
import { eventSignal, journeyWorkflowId, keyedWorkflowId, type JourneyEvent } from '../workflows/definitions';
import { entryKeyOf, pickTriggerData, triggerView } from '../rules/trigger-data';
import { createLogger } from '../lib/logger';

const log = createLogger({ name: 'dispatch' });
import { SOJOURN_VERSION } from '../workflows/search-attributes';

export interface DispatchResult {
  /** `invalid_data`: the event lacks a declared trigger data field (or its type differs), or gives no entry key. */
  started: { journeyId: string; outcome: StartOutcome | 'not_eligible' | 'paused' | 'invalid_data' }[];
  signalled: string[];
  /** Running runs of a journey that listens to the event in some version, but not in the one they are pinned to. */
  notListening: string[];
}

export interface EventDispatcher { dispatch(event: SojournEvent): Promise<DispatchResult> }

/** The wire form of an event for a run (JSON: `at` as ISO text; no contact id, the run knows it). */
export function toJourneyEvent(e: Pick<SojournEvent, 'name' | 'at' | 'eventId' | 'data'>): JourneyEvent {
  return { name: e.name, at: new Date(e.at).toISOString(), eventId: e.eventId, data: e.data };
}

/** A small LRU: plans are immutable per (journey, version), so entries never go stale, only old. */
export class PlanCache {
  private readonly map = new Map<string, JourneyPlan>();
  constructor(private readonly max = 256) {}
  get size(): number { return this.map.size; }
  async get(journeyId: string, version: number, load = getJourneyPlan): Promise<JourneyPlan | null> {
    const k = `${journeyId}@${version}`;
    const hit = this.map.get(k);
    if (hit) {
      this.map.delete(k);
      this.map.set(k, hit);
      return hit;
    }
    const p = await load(journeyId, version);
    if (!p) return null;
    this.map.set(k, p);
    if (this.map.size > this.max) this.map.delete(this.map.keys().next().value as string);
    return p;
  }
}

export function createEventDispatcher(deps: { client: Client; taskQueue: string; planCacheSize?: number }): EventDispatcher {
  const plans = new PlanCache(deps.planCacheSize);

  type ContactRead = () => ReturnType<typeof contactForDispatch>;

  async function trigger(j: JourneyDoc, e: SojournEvent, event: JourneyEvent, read: ContactRead): Promise<DispatchResult['started'][number] | null> {
    if (j.paused) return { journeyId: j._id, outcome: 'paused' };
    const plan = await plans.get(j._id, j.liveVersion);
    const triggers = plan ? eventTriggers(plan).filter((t) => t.event === e.name) : [];
    if (!plan || triggers.length === 0) return null;
    // Eligible when any of the journey's triggers for this event has no condition or a true one.
    let eligible = triggers.find((t) => !t.when);
    if (!eligible) {
      const contact = (await read()).view;
      eligible = contact === null ? undefined : triggers.find((t) => evaluateBool(t.when!, {
        contact, event: t.data ? triggerView(event, t.data) : { name: event.name, at: new Date(event.at), data: event.data ?? {} }, now: new Date(event.at),
        defaultTimezone: plan.settings.defaultTimezone,
      }));
    }
    if (!eligible) return { journeyId: j._id, outcome: 'not_eligible' };
    // Only the declared data enters the run; an event without it (or with another type) starts nothing.
    const picked = pickTriggerData(eligible.data, event.data);
    const key = entryKeyOf(plan, event);
    if ('error' in picked || (key && 'error' in key)) {
      log.warn({ journeyId: j._id, eventId: e.eventId, event: e.name, problem: 'error' in picked ? picked.error : (key as { error: string }).error }, 'event does not carry the data the journey declares; no run started');
      return { journeyId: j._id, outcome: 'invalid_data' };
    }
    const outcome = await startJourneyRun(deps.client, deps.taskQueue, {
      journeyId: j._id, version: j.liveVersion, entry: plan.entry, contactId: e.contactId, event,
      ...(eligible.data ? { triggerData: picked.data } : {}), ...(key ? { key: key.key } : {}),
    });
    return { journeyId: j._id, outcome };
  }

  /** Signals the contact's running runs in this journey whose pinned version listens to the event. */
  async function signalListeners(j: JourneyDoc, e: SojournEvent, event: JourneyEvent, result: DispatchResult): Promise<void> {
    const live = await plans.get(j._id, j.liveVersion);
    for (const id of candidateIds(j._id, e.contactId, live, event.at, event)) {
      const handle = deps.client.workflow.getHandle(id);
      let version: number | undefined;
      try {
        const d = await handle.describe();
        if (d.status.name !== 'RUNNING') continue;
        version = d.typedSearchAttributes.get(SOJOURN_VERSION) ?? j.liveVersion;
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) continue;
        throw err;
      }
      const pinned = version === j.liveVersion ? live : await plans.get(j._id, version);
      const listens = pinned ? listensTo(pinned) : [];
      if (!listens.includes(e.name) && !listens.includes('*')) {
        result.notListening.push(id);
        continue;
      }
      try {
        await handle.signal(eventSignal, event);
        result.signalled.push(id);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err; // ended between describe and signal
      }
    }
  }

  return {
    async dispatch(e) {
      const event = toJourneyEvent(e);
      const result: DispatchResult = { started: [], signalled: [], notListening: [] };
      // The contact is read at most once per event, for trigger conditions and entered journeys alike.
      let contact: ReturnType<typeof contactForDispatch> | undefined;
      const read: ContactRead = () => (contact ??= contactForDispatch(e.contactId));
      const routes = await eventTargets(e.name);
      const journeys = routes.journeys;
      if (journeys.size === 0) return result;
      // A delivered trigger went to the running run through signal-with-start already.
      const delivered = new Set<string>();
      for (const id of routes.triggers) {
        const j = journeys.get(id);
        const r = j ? await trigger(j, e, event, read) : null;
        if (!r) continue;
        result.started.push(r);
        if (r.outcome === 'delivered' || r.outcome === 'started') delivered.add(id);
      }
      // Only journeys the contact was entered into can have runs to signal (unknown for old contacts: all),
      // and not those that hear this event only through an exit_when it cannot change (decision 43).
      const changes = contactFieldsChangedBy(e.name);
      const listeners = routes.listenedBy.filter((id) => !delivered.has(id) && !exitUnaffected(routes.exitOnly, id, changes));
      const entered = listeners.length ? (await read()).entered : null;
      for (const id of listeners) {
        const j = journeys.get(id);
        if (j && (!entered || entered.has(id))) await signalListeners(j, e, event, result);
      }
      return result;
    },
  };
}

/**
 * True when journey `id` listens to the event only through `exit_when` (in every deployed version)
 * and nothing the event changes in the contact is read by it: its runs would evaluate exit_when on
 * the same values as at their last step, so they are not told.
 */
export function exitUnaffected(exitOnly: Map<string, string[] | null>, id: string, changes: readonly string[] | null): boolean {
  if (!exitOnly.has(id) || changes === null) return false;
  const reads = exitOnly.get(id);
  return reads !== null && reads !== undefined && !reads.some((f) => changes.includes(f));
}

/**
 * Workflow ids a contact's run in a journey may have, newest first: the plain id, or the neighbouring
 * periods. A keyed journey's runs (one per order...) are found by id too, never by a visibility query:
 * the run an email event comes from (its data names the workflow, from the send ledger), and the run
 * whose key the event carries in the data field the journey correlates on (`plan.entryKey.byEvent`).
 * Other events reach keyed runs only through their own checks (exit_when before each step, the gate).
 */
export function candidateIds(journeyId: string, contactId: string, plan: JourneyPlan | null, at: string, event?: Pick<JourneyEvent, 'name' | 'data'>): string[] {
  if (plan?.entryKey) {
    const ids = new Set<string>();
    const prefix = keyedWorkflowId(journeyId, contactId, 'x').slice(0, -1);
    const from = event?.data?.workflowId;
    if (typeof from === 'string' && from.startsWith(prefix)) ids.add(from);
    const field = event ? plan.entryKey.byEvent[event.name] : undefined;
    const key = field ? event?.data?.[field] : undefined;
    if ((typeof key === 'string' && key !== '') || (typeof key === 'number' && Number.isSafeInteger(key))) ids.add(keyedWorkflowId(journeyId, contactId, String(key)));
    return [...ids];
  }
  if (plan?.trigger.kind === 'date') {
    const y = new Date(at).getUTCFullYear();
    return [y + 1, y, y - 1].map((p) => journeyWorkflowId(journeyId, contactId, String(p)));
  }
  if (plan?.entry.kind === 'every') {
    const k = Number(periodKeyFor(plan.entry, at));
    return [k, k - 1].map((p) => journeyWorkflowId(journeyId, contactId, String(p)));
  }
  return [journeyWorkflowId(journeyId, contactId)];
}

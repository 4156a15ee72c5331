/**
 * Events -> runs. For each event (from the HTTP API or CLI):
 *  - journeys whose trigger is this event start a run per the entry policy (signal-with-start; the
 *    trigger's `when` is evaluated here, against the contact, so that a non-matching event does not
 *    consume a "once" entry);
 *  - running runs of this contact in other journeys that listen to it (wait_for, goal, exit_when) get
 *    it as the `event` signal. Their ids are deterministic, so no visibility query is needed.
 * Paused journeys refuse new entries but keep receiving events for runs in flight.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { eventTriggers, getJourneyPlan, JourneyModel, type JourneyDoc } from '../data/journey-versions';
import { evaluateBool } from '../rules/evaluate';
import type { JourneyPlan } from '../rules/plan';
import { dataLayerContactStore, type ContactStore } from '../activities/contact-store';
import { periodKeyFor, startJourneyRun, type StartOutcome } from '../activities/start-run';
import { eventSignal, journeyWorkflowId, type JourneyEvent } from '../workflows/definitions';

export interface DispatchEvent { contactId: string; name: string; at: string | Date; eventId: string; data?: Record<string, unknown> }

export interface DispatchResult {
  started: { journeyId: string; outcome: StartOutcome | 'not_eligible' | 'paused' }[];
  signalled: string[];
}

export interface EventDispatcher { dispatch(event: DispatchEvent): Promise<DispatchResult> }

export function createEventDispatcher(deps: { client: Client; taskQueue: string; contacts?: ContactStore }): EventDispatcher {
  const contacts = deps.contacts ?? dataLayerContactStore();
  const plans = new Map<string, JourneyPlan>();
  const planOf = async (j: JourneyDoc): Promise<JourneyPlan | null> => {
    const k = `${j._id}@${j.liveVersion}`;
    if (!plans.has(k)) {
      const p = await getJourneyPlan(j._id, j.liveVersion);
      if (!p) return null;
      plans.set(k, p);
    }
    return plans.get(k)!;
  };

  return {
    async dispatch(e) {
      const event: JourneyEvent = { name: e.name, at: new Date(e.at).toISOString(), eventId: e.eventId, data: e.data };
      const result: DispatchResult = { started: [], signalled: [] };
      const triggered = await JourneyModel.find({ triggerEvents: e.name }).lean();
      for (const j of triggered) {
        if (j.paused) { result.started.push({ journeyId: j._id, outcome: 'paused' }); continue; }
        const plan = await planOf(j);
        const triggers = plan ? eventTriggers(plan).filter((t) => t.event === e.name) : [];
        if (!plan || triggers.length === 0) continue;
        // Eligible when any of the journey's triggers for this event has no condition or a true one.
        let eligible = triggers.some((t) => !t.when);
        if (!eligible) {
          const contact = await contacts.getContactView(e.contactId);
          eligible = contact !== null && triggers.some((t) => evaluateBool(t.when!, {
            contact, event: { name: event.name, at: new Date(event.at), data: event.data ?? {} }, now: new Date(event.at),
            defaultTimezone: plan.settings.defaultTimezone,
          }));
        }
        if (!eligible) { result.started.push({ journeyId: j._id, outcome: 'not_eligible' }); continue; }
        const outcome = await startJourneyRun(deps.client, deps.taskQueue, { journeyId: j._id, version: j.liveVersion, entry: plan.entry, contactId: e.contactId, event });
        result.started.push({ journeyId: j._id, outcome });
      }
      // Runs in flight that may care about this event, in journeys it did not just trigger.
      const triggeredIds = new Set(triggered.map((j) => j._id));
      for (const j of await liveJourneysIncludingPaused()) {
        if (triggeredIds.has(j._id)) continue;
        if (!j.listensTo.includes(e.name) && !j.listensTo.includes('*')) continue;
        const plan = await planOf(j);
        const ids = candidateIds(j._id, e.contactId, plan, event.at);
        for (const id of ids) {
          try {
            await deps.client.workflow.getHandle(id).signal(eventSignal, event);
            result.signalled.push(id);
          } catch (err) {
            if (!(err instanceof WorkflowNotFoundError)) throw err;
          }
        }
      }
      return result;
    },
  };
}

/** Every deployed journey (a handful): paused ones still have runs in flight that need their events. */
async function liveJourneysIncludingPaused(): Promise<JourneyDoc[]> {
  return JourneyModel.find({}).lean();
}

/** Workflow ids a contact's run in a journey may have, newest first: the plain id, or the neighbouring periods. */
export function candidateIds(journeyId: string, contactId: string, plan: JourneyPlan | null, at: string): string[] {
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

/**
 * Starting (or signalling) one contact's run in a journey, with the entry policy enforced by Temporal's
 * workflow-id policies, never by reading first:
 * - once:    id journey/<j>/<c>, reuse REJECT_DUPLICATE: a contact enters at most once, ever.
 * - every P: id journey/<j>/<c>/<period>, period = floor(event time / P) (fixed windows from the epoch),
 *            reuse REJECT_DUPLICATE: at most one entry per window. Date (birthday) triggers use the
 *            birthday's local year as the period.
 * - restart: id journey/<j>/<c>, conflict TERMINATE_EXISTING + reuse ALLOW_DUPLICATE: a new entry
 *            replaces the running one.
 * - keyed (`entry: { key: ... }`): id journey/<j>/<c>/key/<key> with the once or restart policy above,
 *            so each order (booking, ...) of a contact has its own run.
 * For once/every the trigger goes through signal-with-start, so a running run receives the event.
 */
import { runsStarted } from '../lib/metrics';
import { noteJourneyEntered } from '../data/journeys-entered';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { EntryPolicy } from '../rules/plan';
import { eventSignal, journeyWorkflowId, keyedWorkflowId, type JourneyEvent, type JourneyInput } from '../workflows/definitions';
import { SOJOURN_CONTACT, SOJOURN_JOURNEY, SOJOURN_STATUS, SOJOURN_VERSION } from '../workflows/search-attributes';

/** 'delivered': signal-with-start either started a run or signalled the running one (the server does not say which). */
export type StartOutcome = 'started' | 'delivered' | 'already_entered';

export interface StartRunRequest {
  journeyId: string;
  version: number;
  entry: EntryPolicy;
  contactId: string;
  event: JourneyEvent;
  /** The declared trigger data the run keeps (rules/trigger-data.ts pickTriggerData). */
  triggerData?: Record<string, unknown>;
  /** Per-entity runs: the key (the run's id is journey/<j>/<c>/key/<key>). */
  key?: string;
  /** Overrides the period key (date triggers: the birthday year). */
  periodKey?: string;
  entryWait?: JourneyInput['entryWait'];
  /**
   * 'signal' (events): signal-with-start, so a running run receives the event. 'start' (scans): a plain
   * start that fails on any existing run with this id, running or closed, so the count is exact.
   */
  via?: 'signal' | 'start';
}

export function periodKeyFor(entry: EntryPolicy, at: string): string | undefined {
  if (entry.kind !== 'every') return undefined;
  return String(Math.floor(Date.parse(at) / entry.periodMs));
}

export async function startJourneyRun(client: Client, taskQueue: string, req: StartRunRequest): Promise<StartOutcome> {
  const outcome = await startOrDeliver(client, taskQueue, req);
  runsStarted.inc({ journey: req.journeyId, outcome });
  return outcome;
}

async function startOrDeliver(client: Client, taskQueue: string, req: StartRunRequest): Promise<StartOutcome> {
  const period = req.periodKey ?? periodKeyFor(req.entry, req.event.at);
  const workflowId = req.key !== undefined ? keyedWorkflowId(req.journeyId, req.contactId, req.key) : journeyWorkflowId(req.journeyId, req.contactId, period);
  const input: JourneyInput = {
    journeyId: req.journeyId, version: req.version, contactId: req.contactId,
    trigger: { name: req.event.name, at: req.event.at, eventId: req.event.eventId, ...(req.triggerData ? { data: req.triggerData } : {}) },
    ...(req.key !== undefined ? { key: req.key } : {}),
    entryWait: req.entryWait,
  };
  const common = {
    taskQueue, workflowId, args: [input] as [JourneyInput],
    typedSearchAttributes: [
      { key: SOJOURN_JOURNEY, value: req.journeyId }, { key: SOJOURN_VERSION, value: req.version },
      { key: SOJOURN_CONTACT, value: req.contactId }, { key: SOJOURN_STATUS, value: 'running' },
    ],
  };
  // Before the start: an event dispatched once the run exists must find the journey noted.
  await noteJourneyEntered(req.contactId, req.journeyId);
  try {
    if (req.entry.kind === 'restart') {
      await client.workflow.start('journey', { ...common, workflowIdReusePolicy: 'ALLOW_DUPLICATE', workflowIdConflictPolicy: 'TERMINATE_EXISTING' });
      return 'started';
    }
    if (req.via === 'start') {
      await client.workflow.start('journey', { ...common, workflowIdReusePolicy: 'REJECT_DUPLICATE', workflowIdConflictPolicy: 'FAIL' });
      return 'started';
    }
    await client.workflow.signalWithStart('journey', {
      ...common, workflowIdReusePolicy: 'REJECT_DUPLICATE', signal: eventSignal, signalArgs: [req.event],
    });
    return 'delivered';
  } catch (err) {
    if (err instanceof WorkflowExecutionAlreadyStartedError) return 'already_entered';
    throw err;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function mapBounded<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

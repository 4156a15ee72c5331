/**
 * Operating deployed journeys from outside the worker: list them with their versions, pause and
 * resume, a contact's runs with their `status` query answers, and running runs counted by step. The
 * CLI (`sojourn journeys`, `sojourn status`) and the HTTP API (server/api/journeys-routes.ts) both call
 * these, so the two doors give the same answers.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { getJourney, getJourneyPlan, listJourneys, setJourneyPaused } from '../data/journey-versions';
import { setScheduleState } from './schedules';
import { statusQuery, type RunStatus } from '../workflows/definitions';
import { SOJOURN_STEP, SOJOURN_VERSION } from '../workflows/search-attributes';

export interface JourneySummary {
  journeyId: string;
  liveVersion: number;
  paused: boolean;
  triggerKind: string;
  triggerEvent: string | null;
  versions: { version: number; hash: string; deployedAt: Date; live: boolean }[];
}

/** Every deployed journey, its versions (oldest first) and which one is live. */
export async function journeySummaries(): Promise<JourneySummary[]> {
  return (await listJourneys()).map((j) => ({
    journeyId: j._id,
    liveVersion: j.liveVersion,
    paused: j.paused,
    triggerKind: j.triggerKind,
    triggerEvent: j.triggerEvent ?? null,
    versions: j.versions.map((v) => ({ ...v, live: v.version === j.liveVersion })),
  }));
}

export type PauseResult =
  | { found: false }
  | { found: true; paused: boolean; schedule: 'changed' | 'unchanged' | 'none' | 'failed'; scheduleError?: string };

/**
 * Pauses (refuses new entries; dispatcher and scans check the flag) or resumes a journey, then pauses
 * or resumes its Temporal schedule when it has one. The flag is the decision; a schedule that could not
 * be changed is reported, not fatal (the scan refuses paused journeys anyway).
 */
export async function setJourneyPause(client: Client | null, journeyId: string, paused: boolean): Promise<PauseResult> {
  if (!(await setJourneyPaused(journeyId, paused))) return { found: false };
  const j = await getJourney(journeyId);
  const plan = j && (await getJourneyPlan(journeyId, j.liveVersion));
  if (!plan || !client) return { found: true, paused, schedule: 'none' };
  try {
    const changed = await setScheduleState(client, plan, paused);
    return { found: true, paused, schedule: changed ? 'changed' : 'unchanged' };
  } catch (err) {
    return { found: true, paused, schedule: 'failed', scheduleError: (err as Error).message };
  }
}

export interface ContactRun {
  workflowId: string;
  runId: string;
  /** The period key of an "every"/yearly run (the part of the workflow id after the contact), or null. */
  period: string | null;
  version: number | null;
  /** Temporal's execution status: RUNNING, COMPLETED, CONTINUED_AS_NEW, TERMINATED, ... */
  execution: string;
  startedAt: Date;
  closedAt: Date | null;
  /** The run's answer to the `status` query (running runs only; closed runs answer with `execution`). */
  status: RunStatus | null;
}

/** Visibility queries take string literals; ids are [A-Za-z0-9_-] here, quotes are stripped anyway. */
const lit = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

/**
 * Every run of a contact in a journey, for every version and period (visibility query on the Sojourn
 * search attributes), newest first, with the `status` query's answer for the running ones.
 */
export async function contactRuns(client: Client, journeyId: string, contactId: string, opts: { limit?: number } = {}): Promise<ContactRun[]> {
  const limit = opts.limit ?? 100;
  const query = `SojournJourney = ${lit(journeyId)} AND SojournContact = ${lit(contactId)}`;
  const prefix = `journey/${journeyId}/${contactId}`;
  const out: ContactRun[] = [];
  for await (const w of client.workflow.list({ query })) {
    const running = w.status.name === 'RUNNING';
    let status: RunStatus | null = null;
    if (running) {
      try {
        status = await client.workflow.getHandle(w.workflowId, w.runId).query(statusQuery);
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    const version = w.typedSearchAttributes.get(SOJOURN_VERSION);
    out.push({
      workflowId: w.workflowId,
      runId: w.runId,
      period: w.workflowId.startsWith(`${prefix}/`) ? w.workflowId.slice(prefix.length + 1) : null,
      version: typeof version === 'number' ? version : null,
      execution: w.status.name,
      startedAt: w.startTime,
      closedAt: w.closeTime ?? null,
      status,
    });
    if (out.length >= limit) break;
  }
  return out.sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime());
}

/** The status query of one run by workflow id (`sojourn status <journey> <contact> [--period]`); null: no such run. */
export async function runStatus(client: Client, workflowId: string): Promise<RunStatus | null> {
  try {
    return await client.workflow.getHandle(workflowId).query(statusQuery);
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return null;
    throw err;
  }
}

/** Running runs of a journey counted by their current step (`sojourn status <journey>`). */
export async function waitingByStep(client: Client, journeyId: string): Promise<{ journeyId: string; running: number; byStep: Record<string, number> }> {
  const byStep: Record<string, number> = {};
  let running = 0;
  for await (const w of client.workflow.list({ query: `SojournJourney = ${lit(journeyId)} AND ExecutionStatus = "Running"` })) {
    const step = String(w.typedSearchAttributes.get(SOJOURN_STEP) ?? '-');
    byStep[step] = (byStep[step] ?? 0) + 1;
    running++;
  }
  return { journeyId, running, byStep };
}

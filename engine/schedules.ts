/**
 * Temporal Schedules for journeys whose triggers are time-based:
 *  - schedule / segment triggers: `sojourn/<journeyId>/audience` runs `audienceScan` on the cron, in the trigger's time zone;
 *  - date (birthday) triggers: `sojourn/<journeyId>/dates` runs `birthdayScan` daily; each run starts the
 *    per-contact runs due in the next 48 hours, which then wait for the local time in the contact's zone.
 *  - classification: `sojourn/classify/daily` runs `classifyScan` over every contact with the deployed rule sets.
 * Registration is idempotent (create, or update the existing schedule), and a paused journey has paused schedules.
 */
import { ScheduleAlreadyRunning, ScheduleNotFoundError, type Client, type ScheduleOptions } from '@temporalio/client';
import type { JourneyPlan, RuleSetPlan } from '../rules/plan';

/** The schedule of a journey's audience scan (schedule and segment triggers). */
export const audienceScheduleId = (journeyId: string) => `sojourn/${journeyId}/audience`;

export function scheduleIdOf(plan: Pick<JourneyPlan, 'journeyId' | 'trigger'>): string | null {
  if (plan.trigger.kind === 'schedule' || plan.trigger.kind === 'segment') return audienceScheduleId(plan.journeyId);
  if (plan.trigger.kind === 'date') return `sojourn/${plan.journeyId}/dates`;
  return null;
}

function optionsFor(plan: JourneyPlan, taskQueue: string, paused: boolean): ScheduleOptions | null {
  const scheduleId = scheduleIdOf(plan);
  if (!scheduleId) return null;
  const t = plan.trigger;
  const isDate = t.kind === 'date';
  return {
    scheduleId,
    spec: isDate ? { cronExpressions: ['5 0 * * *'], timezone: 'UTC' } : { cronExpressions: [(t as { cron: string }).cron], timezone: (t as { timezone: string }).timezone },
    action: {
      type: 'startWorkflow',
      workflowType: isDate ? 'birthdayScan' : 'audienceScan',
      workflowId: `scan/${plan.journeyId}`,
      taskQueue,
      args: [{ journeyId: plan.journeyId }],
    },
    policies: { overlap: 'SKIP', catchupWindow: '1 hour' },
    state: { paused, note: paused ? 'journey paused' : undefined },
  };
}

export type ScheduleChange = 'created' | 'updated' | 'none';

/** Creates or updates the schedule a plan's trigger needs. */
export async function registerJourneySchedule(client: Client, plan: JourneyPlan, opts: { taskQueue: string; paused?: boolean }): Promise<ScheduleChange> {
  const options = optionsFor(plan, opts.taskQueue, opts.paused ?? false);
  if (!options) return 'none';
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  const handle = client.schedule.getHandle(options.scheduleId);
  await handle.update((prev) => ({ ...prev, spec: options.spec, action: options.action, policies: { ...prev.policies, ...options.policies } }));
  if (opts.paused) await handle.pause('journey paused');
  else await handle.unpause('journey live');
  return 'updated';
}

/** Pauses or resumes a journey's schedule, if it has one. */
export async function setScheduleState(client: Client, plan: JourneyPlan, paused: boolean): Promise<boolean> {
  const id = scheduleIdOf(plan);
  if (!id) return false;
  try {
    const h = client.schedule.getHandle(id);
    if (paused) await h.pause('journey paused');
    else await h.unpause('journey resumed');
    return true;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return false;
    throw err;
  }
}

/** The daily classification pass over every contact (workflows/classify-scan.ts). */
export const CLASSIFY_SCHEDULE_ID = 'sojourn/classify/daily';
/** When it runs: 01:30 UTC every day (after the 00:05 date scans, before most of Asia's and Europe's mornings). */
export const CLASSIFY_CRON = '30 1 * * *';

/**
 * Creates or updates the daily classification schedule with the deployed contact rule sets as its
 * argument (so a pass uses the rule sets of the last deploy, and a deploy that changes them updates the
 * schedule). A deploy without contact rule sets (e.g. one journey file) leaves the schedule as it is.
 */
export async function registerClassifySchedule(client: Client, ruleSets: RuleSetPlan[], opts: { taskQueue: string }): Promise<ScheduleChange> {
  if (!ruleSets.length) return 'none';
  const handle = client.schedule.getHandle(CLASSIFY_SCHEDULE_ID);
  const options: ScheduleOptions = {
    scheduleId: CLASSIFY_SCHEDULE_ID,
    spec: { cronExpressions: [CLASSIFY_CRON], timezone: 'UTC' },
    action: { type: 'startWorkflow', workflowType: 'classifyScan', workflowId: 'classify/daily', taskQueue: opts.taskQueue, args: [{ ruleSets }] },
    policies: { overlap: 'SKIP', catchupWindow: '1 hour' },
  };
  try {
    await client.schedule.create(options);
    return 'created';
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
  }
  await handle.update((prev) => ({ ...prev, spec: options.spec, action: options.action, policies: { ...prev.policies, ...options.policies } }));
  return 'updated';
}

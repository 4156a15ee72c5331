/**
 * How far a journey's audience scan is, for `sojourn status <journey>`: the schedule
 * (`sojourn/<journey>/audience`) names the scan it is running or ran last, and the scan's
 * `scanProgress` query answers pages, contacts scanned, matched and runs started over all its runs.
 */
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { scanProgressQuery, type ScanProgress } from '../workflows/scan-progress';
import { audienceScheduleId } from './schedules';

export interface AudienceScanStatus extends ScanProgress {
  workflowId: string;
  running: boolean;
}

/** The running scan of the journey, else its last one; null without a schedule, a scan, or an answer. */
export async function audienceScanStatus(client: Client, journeyId: string): Promise<AudienceScanStatus | null> {
  let workflowId: string | undefined;
  let running = false;
  try {
    const d = await client.schedule.getHandle(audienceScheduleId(journeyId)).describe();
    const now = d.info.runningActions[0];
    running = now !== undefined;
    workflowId = (now ?? d.info.recentActions[d.info.recentActions.length - 1]?.action)?.workflow.workflowId;
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) return null;
    throw err;
  }
  if (!workflowId) return null;
  try {
    return { workflowId, running, ...(await client.workflow.getHandle(workflowId).query(scanProgressQuery)) };
  } catch {
    // No worker to answer (or a scan from before the query existed): say nothing rather than guess.
    return null;
  }
}

/** One line for the CLI. */
export function formatScanStatus(s: AudienceScanStatus): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return `  audience scan ${s.running ? 'running' : s.done ? 'done' : 'stopped'} (${s.workflowId}, scheduled ${s.scanAt || '-'}): ${n(s.pages)} pages, ${n(s.scanned)} contacts scanned, ${n(s.matched)} matched, ${n(s.started)} runs started${s.alreadyEntered ? `, ${n(s.alreadyEntered)} already entered` : ''}`;
}

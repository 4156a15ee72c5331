/**
 * `sojourn status <journey> [contact]`: with a contact, the run's current step, what it waits for, until
 * when and why (the workflow's `status` query); without, the journey's running runs counted by step
 * (visibility query on the Sojourn search attributes) and, for a schedule or segment trigger, how far its
 * audience scan is (running or last: pages, scanned, matched, started). --period for "every" journeys. The last send decision
 * is shown with the gate's reason (e.g. `skipped (topic_opt_out)`), and a deferred send shows what it waits
 * for (`quiet_hours`, `paused`) and until when. Runs waiting on a retried activity (a server is down) show the
 * activity, its attempt, the next attempt and the last failure (from the run's pending activities).
 * Exit codes: 0 ok, 1 no such run, 2 bad usage or a crash.
 */
import type { Command } from 'commander';
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { connectTemporal } from '../../lib/temporal-connection';
import { loadConfig } from '../../lib/config';
import { journeyWorkflowId, type RunStatus } from '../../workflows/definitions';
import { runStatus, waitingByStep } from '../../engine/journey-control';
import { SOJOURN_JOURNEY } from '../../workflows/search-attributes';
import { audienceScanStatus, formatScanStatus } from '../../engine/scan-status';

export function register(program: Command): void {
  program
    .command('status')
    .description('Where a contact is in a journey, or how many runs wait at each step')
    .argument('<journey>', 'journey id')
    .argument('[contact]', 'contact id')
    .option('--period <key>', 'period key of an "every" or yearly journey run')
    .option('--format <format>', 'text or json', 'text')
    .action(async (journeyId: string, contactId: string | undefined, opts: { period?: string; format: string }) => {
      const cfg = loadConfig();
      const { connection, client } = await connectTemporal(cfg);
      try {
        if (contactId) {
          const id = journeyWorkflowId(journeyId, contactId, opts.period);
          const s = await runStatus(client, id);
          if (!s) {
            console.error(`no run ${id}`);
            process.exitCode = 1;
          } else {
            const retries = pendingRetries(await client.workflow.getHandle(id).describe());
            if (opts.format === 'json') console.log(JSON.stringify({ ...s, retries }, null, 2));
            else console.log([formatRunStatus(id, s), ...retries.map(formatRetry)].join('\n'));
          }
          return;
        }
        const counts = (await waitingByStep(client, journeyId)).byStep;
        const { retrying, described } = await retryingRuns(client, journeyId);
        const waitingOnRetries = Object.values(retrying).reduce((a, b) => a + b, 0);
        const scan = await audienceScanStatus(client, journeyId);
        if (opts.format === 'json') console.log(JSON.stringify({ journeyId, running: counts, waitingOnRetries: retrying, ...(scan ? { audienceScan: scan } : {}) }, null, 2));
        else {
          console.log(`${journeyId}: ${Object.values(counts).reduce((a, b) => a + b, 0)} running`);
          if (scan) console.log(formatScanStatus(scan));
          for (const [step, n] of Object.entries(counts).sort()) console.log(`  ${step}: ${n}`);
          if (waitingOnRetries) {
            console.log(`  waiting on retries: ${waitingOnRetries}${described > RETRY_SCAN_LIMIT ? ` (of the first ${RETRY_SCAN_LIMIT} runs)` : ''}`);
            for (const [activity, n] of Object.entries(retrying).sort()) console.log(`    ${activity}: ${n}`);
          }
        }
      } finally {
        await connection.close();
      }
    });
}

/** How many running runs `sojourn status <journey>` describes to count those waiting on retries. */
const RETRY_SCAN_LIMIT = 500;

/** An activity of the run that failed at least once and is being retried (a server may be down). */
export interface PendingRetry { activity: string; attempt: number; lastFailure: string | null; nextAttemptAt: string | null }

/** The run's pending activities past their first attempt, from `describe` (the status query cannot see them). */
export function pendingRetries(d: WorkflowExecutionDescription): PendingRetry[] {
  const toIso = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => (t?.seconds != null ? new Date(Number(t.seconds) * 1000 + Math.round((t.nanos ?? 0) / 1e6)).toISOString() : null);
  return (d.raw.pendingActivities ?? [])
    .filter((a) => (a.attempt ?? 1) > 1 || a.lastFailure)
    .map((a) => ({
      activity: a.activityType?.name ?? '?',
      attempt: a.attempt ?? 1,
      lastFailure: a.lastFailure?.message ? a.lastFailure.message.split('\n')[0].slice(0, 200) : null,
      nextAttemptAt: toIso(a.nextAttemptScheduleTime),
    }));
}

/** Runs of a journey waiting on retried activities, by activity: visibility cannot tell, so the first RETRY_SCAN_LIMIT are described. */
async function retryingRuns(client: Client, journeyId: string): Promise<{ retrying: Record<string, number>; described: number }> {
  const retrying: Record<string, number> = {};
  let described = 0;
  const query = `${SOJOURN_JOURNEY.name} = "${journeyId.replace(/["\\]/g, '')}" AND ExecutionStatus = "Running"`;
  for await (const w of client.workflow.list({ query })) {
    if (described++ >= RETRY_SCAN_LIMIT) continue;
    for (const r of pendingRetries(await client.workflow.getHandle(w.workflowId, w.runId).describe())) retrying[r.activity] = (retrying[r.activity] ?? 0) + 1;
  }
  return { retrying, described };
}

function formatRetry(r: PendingRetry): string {
  return `  retrying: ${r.activity}, attempt ${r.attempt}${r.nextAttemptAt ? `, next at ${r.nextAttemptAt}` : ''}${r.lastFailure ? `\n    last failure: ${r.lastFailure}` : ''}`;
}

/** The text form of a run's status: where it is, what it waits for and why, and its last send decision. */
export function formatRunStatus(id: string, s: RunStatus): string {
  const lines = [
    id,
    `  step: ${s.step ?? '-'}`,
    `  waiting for: ${s.waitingFor ?? '-'}${s.until ? ` until ${s.until}` : ''}`,
    `  reason: ${s.reason ?? '-'}`,
  ];
  if (s.lastSend) {
    const l = s.lastSend;
    const what = l.outcome === 'skip' ? `skipped (${l.reason ?? 'unknown'})` : l.outcome === 'failed' ? `failed (${l.reason ?? 'unknown'})` : l.outcome;
    lines.push(`  last send: ${l.templateId} at step ${l.stepId}: ${what}${l.deferrals ? ` after ${l.deferrals} deferral${l.deferrals === 1 ? '' : 's'}` : ''} at ${l.at}`);
  }
  if (s.outcome) lines.push(`  outcome: ${s.outcome}`);
  return lines.join('\n');
}

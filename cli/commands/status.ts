/**
 * `sojourn status <journey> [contact]`: with a contact, the run's current step, what it waits for, until
 * when and why (the workflow's `status` query); without, the journey's running runs counted by step
 * (visibility query on the Sojourn search attributes). --period for "every" journeys. The last send decision
 * is shown with the gate's reason (e.g. `skipped (topic_opt_out)`), and a deferred send shows what it waits
 * for (`quiet_hours`, `paused`) and until when.
 * Exit codes: 0 ok, 1 no such run, 2 bad usage or a crash.
 */
import type { Command } from 'commander';
import { connectTemporal } from '../../lib/temporal-connection';
import { loadConfig } from '../../lib/config';
import { journeyWorkflowId, type RunStatus } from '../../workflows/definitions';
import { runStatus, waitingByStep } from '../../engine/journey-control';

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
          } else if (opts.format === 'json') console.log(JSON.stringify(s, null, 2));
          else console.log(formatRunStatus(id, s));
          return;
        }
        const counts = (await waitingByStep(client, journeyId)).byStep;
        if (opts.format === 'json') console.log(JSON.stringify({ journeyId, running: counts }, null, 2));
        else {
          console.log(`${journeyId}: ${Object.values(counts).reduce((a, b) => a + b, 0)} running`);
          for (const [step, n] of Object.entries(counts).sort()) console.log(`  ${step}: ${n}`);
        }
      } finally {
        await connection.close();
      }
    });
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

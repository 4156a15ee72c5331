/**
 * `sojourn journeys migrate`: moving running runs of a journey to another version. The plan groups the
 * running runs (found through visibility: SojournJourney, SojournVersion, SojournStep) by version and
 * step and says for each group whether it can move (workflows/migrate.ts decides, the same function the
 * workflow applies). Executing it sends each movable run the `migrate` update; the run itself re-checks
 * and answers, and the outcome is recorded in journey_migrations.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { JourneyPlan } from '../rules/plan';
import { stepLabel } from '../rules/step-kinds';
import { getJourneyPlan, recordMigration, type JourneyMigrationDoc } from '../data/journey-versions';
import { migrationBlocker } from '../workflows/migrate';
import { migrateUpdate, type MigrateAnswer } from '../workflows/definitions';
import { SOJOURN_STEP, SOJOURN_VERSION } from '../workflows/search-attributes';

/** A running run as visibility shows it. */
export interface RunRef { workflowId: string; version: number; step: string | null }

export interface MigrationGroup {
  fromVersion: number;
  step: string | null;
  /** The step's kind (and awaited event) in its version, for people reading the plan. */
  what: string;
  workflowIds: string[];
  canMove: boolean;
  reason: string;
}

export interface MigrationPlan { journeyId: string; toVersion: number; total: number; groups: MigrationGroup[] }

/** Running runs of a journey, from the visibility store (the search attributes every run keeps current). */
export async function listRunningRuns(client: Client, journeyId: string): Promise<RunRef[]> {
  const runs: RunRef[] = [];
  const query = `SojournJourney = "${journeyId.replace(/["\\]/g, '')}" AND ExecutionStatus = "Running"`;
  for await (const w of client.workflow.list({ query })) {
    runs.push({ workflowId: w.workflowId, version: Number(w.typedSearchAttributes.get(SOJOURN_VERSION) ?? 0), step: (w.typedSearchAttributes.get(SOJOURN_STEP) as string | undefined) ?? null });
  }
  return runs;
}

function describeStep(plan: JourneyPlan | null, step: string | null): string {
  if (step === null) return 'before the first step';
  const s = plan?.steps[step];
  if (!s) return 'unknown step';
  return stepLabel(s);
}

/** Groups the runs by (version, step) and decides for each group. */
export async function planMigration(journeyId: string, toVersion: number, runs: RunRef[], load = getJourneyPlan): Promise<MigrationPlan> {
  const target = await load(journeyId, toVersion);
  if (!target) throw new Error(`journey "${journeyId}" has no version ${toVersion}`);
  const plans = new Map<number, JourneyPlan | null>([[toVersion, target]]);
  const groups = new Map<string, MigrationGroup>();
  for (const r of runs) {
    if (!plans.has(r.version)) plans.set(r.version, await load(journeyId, r.version));
    const key = `${r.version}\u0000${r.step ?? ''}`;
    let g = groups.get(key);
    if (!g) {
      const from = plans.get(r.version) ?? null;
      const blocker = r.version === toVersion ? `already on version ${toVersion}` : migrationBlocker(from, target, r.step);
      g = {
        fromVersion: r.version, step: r.step, what: describeStep(from, r.step), workflowIds: [], canMove: blocker === null,
        reason: blocker ?? (r.step === null ? 'starts at the first step of the target version' : `step "${r.step}" exists in version ${toVersion} as the same ${target.steps[r.step].kind}`),
      };
      groups.set(key, g);
    }
    g.workflowIds.push(r.workflowId);
  }
  const sorted = [...groups.values()].sort((a, b) => a.fromVersion - b.fromVersion || String(a.step).localeCompare(String(b.step)));
  return { journeyId, toVersion, total: runs.length, groups: sorted };
}

/** The plan as people read it (what `--dry-run` prints). */
export function formatMigrationPlan(p: MigrationPlan): string {
  const movable = p.groups.filter((g) => g.canMove).reduce((n, g) => n + g.workflowIds.length, 0);
  const lines = [`${p.journeyId}: ${p.total} running run(s); ${movable} can move to version ${p.toVersion}, ${p.total - movable} cannot`];
  for (const g of p.groups) {
    lines.push(`  v${g.fromVersion} at ${g.step ?? '(entry)'} [${g.what}]: ${g.workflowIds.length} run(s): ${g.canMove ? 'CAN move' : 'cannot move'}: ${g.reason}`);
  }
  return lines.join('\n');
}

export interface MigrationOutcome { migrationId: string; moved: JourneyMigrationDoc['moved']; notMoved: JourneyMigrationDoc['notMoved'] }

/**
 * Sends the `migrate` update to every run of a movable group (bounded concurrency) and records the
 * outcome. Each run re-checks against its own state, so a run that moved on meanwhile answers why not.
 */
export async function executeMigration(client: Client, plan: MigrationPlan, opts: { concurrency?: number; now?: Date } = {}): Promise<MigrationOutcome> {
  const migrationId = `migrate/${plan.journeyId}/v${plan.toVersion}/${randomUUID()}`;
  const moved: MigrationOutcome['moved'] = [];
  const notMoved: MigrationOutcome['notMoved'] = [];
  const work: { workflowId: string; group: MigrationGroup }[] = [];
  for (const g of plan.groups) {
    for (const workflowId of g.workflowIds) {
      if (g.canMove) work.push({ workflowId, group: g });
      else notMoved.push({ workflowId, fromVersion: g.fromVersion, step: g.step, reason: g.reason });
    }
  }
  let next = 0;
  const worker = async () => {
    while (next < work.length) {
      const { workflowId, group } = work[next++];
      let answer: MigrateAnswer;
      try {
        answer = await client.workflow.getHandle(workflowId).executeUpdate(migrateUpdate, { args: [{ toVersion: plan.toVersion, migrationId }] });
      } catch (err) {
        answer = { moved: false, reason: `update failed: ${(err as Error).message.split('\n')[0]}` };
      }
      if (answer.moved) moved.push({ workflowId, fromVersion: answer.fromVersion, step: answer.step });
      else notMoved.push({ workflowId, fromVersion: group.fromVersion, step: group.step, reason: answer.reason });
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 10, Math.max(work.length, 1)) }, worker));
  await recordMigration({ _id: migrationId, journeyId: plan.journeyId, kind: 'migrate', toVersion: plan.toVersion, at: opts.now ?? new Date(), moved, notMoved });
  return { migrationId, moved, notMoved };
}

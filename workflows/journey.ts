/**
 * The journey workflow: one run per contact per journey. It loads and pins its plan version, then walks
 * the step graph: exit_when and pending events before every step, one handler per step kind. A step
 * visited twice (a loop in the plan, e.g. yearly birthday care) starts a new iteration through
 * continue-as-new, so history stays bounded however long the journey lives.
 */
import { metrics, report } from './sinks';
import { continueAsNew, workflowInfo } from '@temporalio/workflow';
import type { JourneyInput, JourneyResult } from './definitions';
import { Run, type RunEnd } from './run';
import { SOJOURN_CONTACT, SOJOURN_JOURNEY, SOJOURN_STATUS, SOJOURN_VERSION } from './search-attributes';
import { KEEPS_CONTACT_READ, PASSES_THROUGH, runStep } from './steps';
import { remapNext } from './migrate';

/** Continue-as-new past this many history events even without a loop (defensive; the server suggests too). */
const HISTORY_SOFT_LIMIT = 2000;

export async function journey(input: JourneyInput): Promise<JourneyResult> {
  const run = new Run(input);
  await run.load();
  // Kept for the first upsert when the run starts by passing through a step (decision 41).
  const first = run.plan.steps[input.carried?.stepId ?? run.plan.start ?? ''];
  const startPassesThrough = !(input.entryWait && !input.carried) && first !== undefined && PASSES_THROUGH[first.kind];
  run.setSearchAttributes([
    { key: SOJOURN_JOURNEY, value: input.journeyId },
    { key: SOJOURN_VERSION, value: input.version },
    { key: SOJOURN_CONTACT, value: input.contactId },
    { key: SOJOURN_STATUS, value: 'running' },
  ], { passingThrough: startPassesThrough });
  const finish = (end: RunEnd): JourneyResult => {
    run.markEnded(end);
    metrics.runEnded(input.journeyId, end.outcome);
    report.runEnded({
      journeyId: input.journeyId, version: input.version, entryKey: run.entryKey, at: run.now().toISOString(),
      outcome: end.outcome, reason: end.reason, stepId: run.status.step, variants: Object.entries(run.splits).map(([s, b]) => `${s}:${b}`),
    });
    return { outcome: end.outcome, reason: end.reason, step: run.status.step, iteration: run.iteration, splits: run.splits, sends: run.sends, ...(run.status.lastCall ? { lastCall: run.status.lastCall } : {}) };
  };

  if (!input.carried) report.runEntered({ journeyId: input.journeyId, version: input.version, entryKey: run.entryKey, at: run.startedAt.toISOString() });

  if (input.entryWait && !input.carried) {
    const r = await run.wait({ until: Date.parse(input.entryWait.until), waitingFor: 'entry', reason: input.entryWait.reason });
    if (r.kind === 'ended') return finish(r.end);
  }

  const visited = new Set<string>();
  let current: string | null = input.carried?.stepId ?? run.plan.start;
  while (current !== null) {
    if (visited.has(current) || workflowInfo().historyLength > HISTORY_SOFT_LIMIT || workflowInfo().continueAsNewSuggested) {
      const loopedBack = visited.has(current);
      run.beforeBlocking();
      await continueAsNew<typeof journey>({ ...input, entryWait: undefined, carried: run.carry(current, run.iteration + (loopedBack ? 1 : 0)) });
    }
    visited.add(current);
    // run.plan, not plan: a migration (the `migrate` update) may have moved the run to another version.
    const step = run.plan.steps[current];
    if (!step) return finish({ outcome: 'exited', reason: `unknown step ${current}` });
    const pending = (await run.drainEvents()) ?? (await run.checkExit());
    if (pending) return finish(pending);
    run.enterStep(step, PASSES_THROUGH[step.kind]);
    const planOfStep = run.plan;
    const result = await runStep(step, run);
    if (!KEEPS_CONTACT_READ[step.kind]) run.contactMayHaveChanged();
    if ('end' in result) return finish(result.end);
    current = run.plan === planOfStep ? result.next : remapNext(step, run.plan.steps[step.id], result.next);
  }
  return finish(await run.awaitGoalWindow({ outcome: 'completed', reason: 'end of journey' }));
}

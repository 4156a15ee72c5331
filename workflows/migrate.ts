/**
 * Moving a running run to another version of its journey. A run may move when the step it is at
 * exists under the same id and kind in the target version (and a wait_for waits for the same event);
 * a run not yet at a step (entry wait) may always move. The step in progress finishes as it began
 * (a wait keeps its deadline); the steps after it come from the new version. Pure: the CLI's dry run
 * and the workflow's update handler decide with the same function.
 */
import type { JourneyPlan, Step } from '../rules/plan';
import { stepListensTo } from '../rules/step-kinds';

/** null when a run at `stepId` of `from` can move to `to`, else the reason it cannot. */
export function migrationBlocker(from: JourneyPlan | null, to: JourneyPlan, stepId: string | null): string | null {
  if (stepId === null) return null;
  const target = to.steps[stepId];
  if (!target) return `step "${stepId}" does not exist in the target version`;
  const source = from?.steps[stepId];
  if (!source) return null;
  if (source.kind !== target.kind) return `step "${stepId}" is a ${source.kind} here and a ${target.kind} in the target version`;
  const [heard, hears] = [stepListensTo(source).join(', '), stepListensTo(target).join(', ')];
  if (heard !== hears) return `step "${stepId}" waits for ${heard} here and for ${hears} in the target version`;
  return null;
}

const BRANCH_FIELDS = ['next', 'onTimeout', 'then', 'else'] as const;

/**
 * Where a step that began under `before` continues under `after`: the same branch (next, on timeout,
 * then, else, or the split branch of the same name) of the step with that id in the new version.
 */
export function remapNext(before: Step, after: Step | undefined, next: string | null): string | null {
  if (!after) return next;
  const b = before as unknown as Record<string, unknown>;
  const a = after as unknown as Record<string, unknown>;
  for (const f of BRANCH_FIELDS) if (f in b && b[f] === next && f in a) return (a[f] as string | null | undefined) ?? (a.next as string | null);
  if (before.kind === 'split' && after.kind === 'split') {
    const name = before.branches.find((x) => x.start === next)?.name;
    const same = after.branches.find((x) => x.name === name);
    if (same) return same.start;
  }
  return next;
}

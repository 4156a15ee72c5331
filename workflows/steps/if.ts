/** if: evaluate the condition against the contact as read in this burst of steps (decision 39); then/else branches rejoin `next`. */
import type { IfStep } from '../../rules/plan';
import type { Run, StepResult } from '../run';

export async function runIf(step: IfStep, run: Run): Promise<StepResult> {
  const contact = await run.freshContact();
  if (!contact) return { end: { outcome: 'exited', reason: 'contact_gone' } };
  const branch = run.test(step.cond, contact) ? step.then : step.else;
  return { next: branch ?? step.next };
}

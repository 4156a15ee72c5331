/** exit: end the run with the outcome the journey names (exited, or converted). */
import type { ExitStep } from '../../rules/plan';
import type { StepResult } from '../run';

export async function runExit(step: ExitStep): Promise<StepResult> {
  return { end: { outcome: step.outcome, reason: step.reason } };
}

/** classify: run a rule set (first match wins) against the contact (read anew unless this burst of steps already did, decision 39) and store the value it picks. */
import { classify } from '../../rules/evaluate';
import type { ClassifyStep } from '../../rules/plan';
import { data } from '../activities';
import type { Run, StepResult } from '../run';

export async function runClassify(step: ClassifyStep, run: Run): Promise<StepResult> {
  const ruleSet = run.plan.ruleSets[step.ruleSet];
  if (!ruleSet) return { end: { outcome: 'exited', reason: `unknown rule set ${step.ruleSet}` } };
  const contact = await run.freshContact();
  if (!contact) return { end: { outcome: 'exited', reason: 'contact_gone' } };
  const result = classify(ruleSet, run.bindings(contact));
  if (result) {
    await data().updateContact({
      contactId: run.input.contactId, journeyId: run.plan.journeyId, stepId: step.id,
      update: { set: { [ruleSet.field]: result.value } }, classification: { field: ruleSet.field, value: result.value, reason: result.reason },
    });
  }
  return { next: step.next };
}

/** update: set fields (expressions evaluated against the contact), tags, consent, email status. */
import type { UpdateStep } from '../../rules/plan';
import type { ContactUpdate } from '../../activities/types';
import { data } from '../activities';
import type { Run, StepResult } from '../run';

export async function runUpdate(step: UpdateStep, run: Run): Promise<StepResult> {
  const update: ContactUpdate = {};
  if (step.set) {
    const hasExpr = Object.values(step.set).some((v) => v !== null && typeof v === 'object');
    const contact = hasExpr ? await run.freshContact() : null;
    if (hasExpr && !contact) return { end: { outcome: 'exited', reason: 'contact_gone' } };
    update.set = Object.fromEntries(
      Object.entries(step.set).map(([k, v]) => [k, v !== null && typeof v === 'object' ? run.value(v, contact!) : v]),
    );
  }
  if (step.addTags?.length) update.addTags = step.addTags;
  if (step.removeTags?.length) update.removeTags = step.removeTags;
  if (step.consent) update.consent = step.consent;
  if (step.emailStatus) update.emailStatus = step.emailStatus;
  await data().updateContact({ contactId: run.input.contactId, journeyId: run.plan.journeyId, stepId: step.id, update });
  return { next: step.next };
}

/**
 * split: a deterministic percentage split per contact (hash of contact id and step id), so a contact
 * lands in the same branch on every run and replay. The choice is recorded in the run state, as the
 * `SojournVariant` search attribute and for reports; sends after it carry it to the ledger. A holdout
 * branch sends nothing and waits out the goal window, so its conversions are observed.
 */
import { patched } from '@temporalio/workflow';
import type { SplitStep } from '../../rules/plan';
import type { Run, StepResult } from '../run';
import { SOJOURN_VARIANT } from '../search-attributes';
import { report } from '../sinks';

/** FNV-1a 32-bit: small, pure and stable across platforms. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The bucket 0..99 of a contact in a split step. */
export function splitBucket(contactId: string, stepId: string): number {
  return fnv1a(`${contactId}:${stepId}`) % 100;
}

export function chooseBranch(step: SplitStep, contactId: string): SplitStep['branches'][number] {
  const bucket = splitBucket(contactId, step.id);
  let acc = 0;
  for (const b of step.branches) {
    acc += b.weight;
    if (bucket < acc) return b;
  }
  return step.branches[step.branches.length - 1];
}

export async function runSplit(step: SplitStep, run: Run): Promise<StepResult> {
  const branch = chooseBranch(step, run.input.contactId);
  run.splits[step.id] = branch.name;
  if (patched('split-variant')) {
    run.setSearchAttributes([{ key: SOJOURN_VARIANT, value: `${step.id}:${branch.name}` }], { passingThrough: true });
    report.splitChosen({ journeyId: run.input.journeyId, version: run.input.version, entryKey: run.entryKey, at: run.now().toISOString(), stepId: step.id, branch: branch.name });
  }
  if (branch.holdout) return { end: await run.awaitGoalWindow({ outcome: 'holdout', reason: `split ${step.id}: ${branch.name}` }) };
  return { next: branch.start ?? step.next };
}

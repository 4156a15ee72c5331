/** One handler per step kind; `satisfies` keeps the map exhaustive when a kind is added to the plan IR. */
import type { Step, StepKind } from '../../rules/plan';
import type { Run, StepResult } from '../run';
import { runClassify } from './classify';
import { runExit } from './exit';
import { runIf } from './if';
import { runSend } from './send';
import { runSplit } from './split';
import { runUpdate } from './update';
import { runWait } from './wait';
import { runWaitFor } from './wait-for';
import { runWebhook } from './webhook';
import { runTask } from './task';

type Handler<K extends StepKind> = (step: Extract<Step, { kind: K }>, run: Run) => Promise<StepResult>;

export const STEP_HANDLERS = {
  send: runSend,
  wait: runWait,
  wait_for: runWaitFor,
  if: runIf,
  split: runSplit,
  update: runUpdate,
  classify: runClassify,
  webhook: runWebhook,
  task: runTask,
  exit: runExit,
} satisfies { [K in StepKind]: Handler<K> };

/**
 * Whether the contact read before a step of this kind is still good after it (decision 39): true only
 * for kinds that neither wait, write the contact, send nor call out. Every other kind makes the next exit
 * check read the contact anew. `satisfies` makes a new kind choose.
 */
export const KEEPS_CONTACT_READ = {
  send: false, // sends (the gate and the send activity touch the contact's records); a deferral waits
  wait: false,
  wait_for: false,
  if: true,
  split: true,
  update: false,
  classify: false, // writes the value it picks
  webhook: false, // set_from_response writes the contact
  task: false,
  exit: true,
} satisfies { [K in StepKind]: boolean };

/**
 * Whether a run passes through a step of this kind without being held at it (no wait, no activity
 * task): its `SojournStep` is written with the next upsert, not on its own (decision 41). A send is held
 * at (the send activity; a deferral waits), as are calls out; `update` and `classify` are local
 * activities of milliseconds.
 */
export const PASSES_THROUGH = {
  send: false,
  wait: false,
  wait_for: false,
  if: true,
  split: true,
  update: true,
  classify: true,
  webhook: false,
  task: false,
  exit: true,
} satisfies { [K in StepKind]: boolean };

export function runStep(step: Step, run: Run): Promise<StepResult> {
  return (STEP_HANDLERS[step.kind] as Handler<StepKind>)(step as never, run);
}

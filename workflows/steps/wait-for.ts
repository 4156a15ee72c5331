/**
 * wait_for: an event by name (and correlation expression) before a timeout; on timeout the on_timeout
 * branch runs (its end rejoins `next`).
 */
import type { WaitForStep } from '../../rules/plan';
import type { JourneyEvent } from '../definitions';
import type { Run, StepResult } from '../run';

export async function runWaitFor(step: WaitForStep, run: Run): Promise<StepResult> {
  const match = async (ev: JourneyEvent): Promise<boolean> => {
    if (ev.name !== step.event) return false;
    if (!step.correlate) return true;
    const contact = await run.currentContact();
    return contact !== null && run.test(step.correlate, contact, ev);
  };
  const r = await run.wait({ until: Date.now() + step.timeoutMs, waitingFor: `event:${step.event}`, reason: `wait_for step ${step.id}`, match });
  if (r.kind === 'ended') return { end: r.end };
  if (r.kind === 'event') return { next: step.next };
  return { next: step.onTimeout ?? step.next };
}

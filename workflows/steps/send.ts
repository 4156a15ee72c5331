/**
 * send: ask the gate, wait out a deferral (quiet hours) and ask again, then hand the message to the
 * delivery activity under a ledger key that is the same on every retry of this step in this iteration.
 */
import type { SendStep } from '../../rules/plan';
import { data, deliver } from '../activities';
import type { SendRecord } from '../definitions';
import type { Run, StepResult } from '../run';

/** After this many deferrals in a row we skip: a gate that keeps deferring is a configuration bug. */
const MAX_DEFERRALS = 10;

/** `${workflowId}:${stepId}:${iteration}`: exactly-once per step per loop iteration of this workflow id. */
export function sendKey(run: Run, stepId: string): string {
  return `${run.ledgerScope}:${stepId}:${run.iteration}`;
}

export async function runSend(step: SendStep, run: Run): Promise<StepResult> {
  const key = sendKey(run, step.id);
  const marketing = run.plan.templates[step.template]?.marketing ?? step.marketing;
  const topic = run.plan.templates[step.template]?.topic;
  for (let deferrals = 0; ; deferrals++) {
    const gate = await data().gateSend({
      contactId: run.input.contactId, journeyId: run.plan.journeyId, stepId: step.id, templateId: step.template,
      marketing, ...(topic !== undefined ? { topic } : {}), key, settings: run.plan.settings, now: new Date(Date.now()).toISOString(),
      version: run.input.version, variant: run.variant,
    });
    if (gate.outcome === 'skip' || (gate.outcome === 'defer' && deferrals >= MAX_DEFERRALS)) {
      const reason = gate.outcome === 'skip' ? gate.reason : 'too_many_deferrals';
      record(run, { stepId: step.id, iteration: run.iteration, templateId: step.template, outcome: 'skip', reason, deferrals, at: new Date(Date.now()).toISOString() });
      run.status.reason = `skipped: ${reason}`;
      return { next: step.next };
    }
    if (gate.outcome === 'defer') {
      // A pause ends early when the contact changes their preferences again: ask the gate anew then.
      const match = gate.reason === 'paused' ? async (ev: { name: string }) => ev.name === 'email.preferences_updated' : undefined;
      const r = await run.wait({ until: Date.parse(gate.until), waitingFor: gate.reason, reason: `send ${step.template} deferred (${gate.reason}) until ${gate.until}`, match });
      if (r.kind === 'ended') return { end: r.end };
      // The contact may have changed while we waited (unsubscribed, moved time zone): check again.
      const end = await run.checkExit();
      if (end) return { end };
      continue;
    }
    run.beforeBlocking();
    const result = await deliver({
      key, workflowId: run.workflowId, contactId: run.input.contactId, journeyId: run.plan.journeyId,
      stepId: step.id, templateId: step.template, version: run.input.version, variant: run.variant, at: new Date(Date.now()).toISOString(),
      ...(run.input.trigger?.data ? { trigger: { name: run.input.trigger.name, data: run.input.trigger.data } } : {}),
    });
    record(run, { stepId: step.id, iteration: run.iteration, templateId: step.template, outcome: result.status, reason: result.status === 'failed' || result.status === 'unknown' ? result.reason : undefined, deferrals, at: new Date(Date.now()).toISOString() });
    return { next: step.next };
  }
}

/** Keeps the decision in the run's result and in its `status` query (`sojourn status` shows the last one). */
function record(run: Run, rec: SendRecord): void {
  run.sends.push(rec);
  run.status.lastSend = rec;
}

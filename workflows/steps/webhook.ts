/**
 * webhook: one signed JSON POST (activities/webhook-step.ts) under an idempotency key that is the same
 * on every retry of this step in this iteration. The outcome (delivered, or failed with a reason) is a
 * value: it is recorded in the run's status and the run goes on either way.
 */
import type { WebhookStep } from '../../rules/plan';
import { hooks } from '../activities';
import type { Run, StepResult } from '../run';

export async function runWebhook(step: WebhookStep, run: Run): Promise<StepResult> {
  const journey = run.journeyView;
  run.beforeBlocking();
  const r = await hooks.callWebhook({
    key: `${run.ledgerScope}:${step.id}:${run.iteration}`,
    contactId: run.input.contactId, journeyId: run.plan.journeyId, stepId: step.id,
    url: step.url, body: step.body, ...(step.setFromResponse ? { setFromResponse: step.setFromResponse } : {}),
    now: new Date(Date.now()).toISOString(), defaultTimezone: run.plan.settings.defaultTimezone,
    journey: { id: journey.id, version: journey.version, startedAt: journey.startedAt.toISOString(), params: journey.params },
  });
  run.status.lastCall = {
    stepId: step.id, iteration: run.iteration, outcome: r.outcome, status: r.status, attempt: r.attempt, at: new Date(Date.now()).toISOString(),
    ...(r.outcome === 'failed' ? { reason: r.reason } : {}),
  };
  if (r.outcome === 'failed') run.status.reason = `webhook ${step.id} failed: ${r.reason}`;
  return { next: step.next };
}

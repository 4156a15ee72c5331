/**
 * task: a task for the contact's owner (activities/task-step.ts), created once per run, step and
 * iteration, the owner told by email (through the send ledger) and, with `webhook:`, by a signed POST
 * (the webhook step's activity, same idempotency and retries). The run does not wait for the task to be
 * done: a journey that should react waits for `task.completed` with `wait_for`.
 */
import type { TaskStep } from '../../rules/plan';
import { hooks, tasks } from '../activities';
import type { Run, StepResult } from '../run';

export async function runTask(step: TaskStep, run: Run): Promise<StepResult> {
  const key = `${run.ledgerScope}:${step.id}:${run.iteration}`;
  const now = new Date(Date.now()).toISOString();
  run.beforeBlocking();
  const r = await tasks.createOwnerTask({
    key, workflowId: run.workflowId, contactId: run.input.contactId, journeyId: run.plan.journeyId, stepId: step.id,
    title: step.title, why: step.why, dueMs: step.dueMs, email: step.email, now,
  });
  if (r.outcome === 'contact_gone') {
    run.status.reason = `task ${step.id}: the contact is gone`;
    return { next: step.next };
  }
  run.status.reason = `task ${r.taskId} ${r.outcome}; owner email: ${r.email}`;
  if (step.webhook) {
    const journey = run.journeyView;
    const due = new Date(Date.parse(now) + step.dueMs).toISOString();
    run.beforeBlocking();
    const call = await hooks.callWebhook({
      key: `${key}:webhook`, contactId: run.input.contactId, journeyId: run.plan.journeyId, stepId: step.id, url: step.webhook,
      body: { type: 'task.created', taskId: r.taskId, title: step.title, why: step.why, due, contactId: run.input.contactId, ownerId: r.ownerId, journeyId: run.plan.journeyId },
      now, defaultTimezone: run.plan.settings.defaultTimezone,
      journey: { id: journey.id, version: journey.version, startedAt: journey.startedAt.toISOString(), params: journey.params },
    });
    run.status.lastCall = {
      stepId: step.id, iteration: run.iteration, outcome: call.outcome, status: call.status, attempt: call.attempt, at: new Date(Date.now()).toISOString(),
      ...(call.outcome === 'failed' ? { reason: call.reason } : {}),
    };
  }
  return { next: step.next };
}

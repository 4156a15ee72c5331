/**
 * Decision 46: a send's first attempt runs as a local activity; only when it fails does the send become
 * an activity task, retried with the policy of workflows/activities.ts and visible in `describe`.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { createLedgerOnlySendActivities } from '../../../activities/send';
import type { SendEmailInput } from '../../../activities/types';
import { contact, deploy, plan, sendsOf, useEngine } from '../helpers';
import type { JourneyResult } from '../../../workflows/definitions';

/** How the run's history recorded its sends: activity tasks scheduled, local activity markers. */
async function sendEvents(engine: ReturnType<typeof useEngine>, workflowId: string) {
  const events = (await engine.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  return {
    tasks: events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendEmail').length,
    localMarkers: events.filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
    events: events.length,
  };
}

describe('the send step: a local first attempt, then an activity task', () => {
  const ledger = createLedgerOnlySendActivities();
  /** Calls as the send activity saw them: local or a task, and the attempt number. */
  const calls: { key: string; local: boolean; attempt: number }[] = [];
  /** Contacts whose next n sends fail as a relay refusing the connection would. */
  const failing = new Map<string, number>();
  const engine = useEngine({
    send: {
      async sendEmail(input: SendEmailInput) {
        const info = Context.current().info;
        calls.push({ key: input.key, local: info.isLocal, attempt: info.attempt });
        const left = failing.get(input.contactId) ?? 0;
        if (left > 0) {
          failing.set(input.contactId, left - 1);
          throw ApplicationFailure.retryable('SMTP transient failure: connect ECONNREFUSED 127.0.0.1:25', 'SmtpTransientError');
        }
        return ledger.sendEmail(input);
      },
    },
  });

  it('sends in one local activity, with no activity task, when the first attempt succeeds', async () => {
    const p = await deploy(plan('send-local-ok', [{ id: 'hello', kind: 'send', template: 'welcome', marketing: true }]));
    const c = await contact();
    const handle = await engine.start(p, c);
    const result: JourneyResult = await handle.result();
    expect(result.sends).toEqual([expect.objectContaining({ stepId: 'hello', outcome: 'sent' })]);
    const key = `${handle.workflowId}:hello:0`;
    expect(calls.filter((x) => x.key === key)).toEqual([{ key, local: true, attempt: 1 }]);
    const h = await sendEvents(engine, handle.workflowId);
    expect(h.tasks).toBe(0);
    expect(h.localMarkers).toBeGreaterThanOrEqual(2); // the gate's and the send's
    expect(await sendsOf(c)).toHaveLength(1);
  });

  it('goes on as a retried activity task when the local attempt fails, and sends once', async () => {
    const p = await deploy(plan('send-local-retry', [{ id: 'hello', kind: 'send', template: 'welcome', marketing: true }]));
    const c = await contact();
    failing.set(c, 3); // the local attempt and the task's first two attempts
    const handle = await engine.start(p, c);
    const key = `${handle.workflowId}:hello:0`;
    const result: JourneyResult = await handle.result();
    expect(result.sends).toEqual([expect.objectContaining({ stepId: 'hello', outcome: 'sent' })]);
    expect(calls.filter((x) => x.key === key)).toEqual([
      { key, local: true, attempt: 1 },
      { key, local: false, attempt: 1 },
      { key, local: false, attempt: 2 },
      { key, local: false, attempt: 3 },
    ]);
    expect((await sendEvents(engine, handle.workflowId)).tasks).toBe(1);
    expect(await sendsOf(c)).toHaveLength(1);
  });
});

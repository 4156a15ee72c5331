/**
 * Decision 46: a send's first attempt runs as a local activity; only when it fails does the send become
 * an activity task, retried with the policy of workflows/activities.ts and visible in `describe`. The
 * send here is Delivery's own (render, ledger, claim, SMTP) over a relay stand-in that can refuse the
 * connection, so the hand-over from the local attempt (pending row, claim released) to the task is real.
 */
import { Context } from '@temporalio/activity';
import type Mail from 'nodemailer/lib/mailer';
import { loadConfig } from '../../../lib/config';
import { createSendActivities } from '../../../worker/send-activities';
import type { SendEmailInput } from '../../../activities/types';
import type { JourneyResult } from '../../../workflows/definitions';
import { pendingRetries } from '../../../cli/commands/status';
import { activityCalls, contact, contactDoc, deploy, eventually, plan, sendsOf, useEngine } from '../helpers';

/** Addresses the relay took a message for, in order; addresses it refuses the connection for. */
const delivered: string[] = [];
const refusing = new Set<string>();
const relay = {
  async sendMail(m: Mail.Options) {
    const to = String(m.to);
    if (refusing.has(to)) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:25'), { code: 'ECONNREFUSED', command: 'CONN' });
    delivered.push(to);
    return { messageId: String(m.messageId), response: '250 2.0.0 OK' };
  },
};

describe('the send step: a local first attempt, then an activity task', () => {
  const delivery = createSendActivities(loadConfig({ ...process.env, SOJOURN_ENV: 'development' }), { transport: relay });
  /** Calls as the send activity saw them: local or a task, and the SDK's attempt number. */
  const calls: { key: string; local: boolean; attempt: number }[] = [];
  const engine = useEngine({
    send: {
      sendEmail(input: SendEmailInput) {
        const info = Context.current().info;
        calls.push({ key: input.key, local: info.isLocal, attempt: info.attempt });
        return delivery.sendEmail(input);
      },
    },
  });

  /** Activity tasks scheduled for sendEmail in the run's history. */
  async function sendTasks(workflowId: string): Promise<number> {
    const events = (await engine.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    return events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'sendEmail').length;
  }

  it('sends in one local activity, with no activity task, when the relay takes the message', async () => {
    const p = await deploy(plan('send-local-ok', [{ id: 'hello', kind: 'send', template: 'welcome', marketing: true }]));
    const c = await contact();
    const email = String((await contactDoc(c)).email);
    const handle = await engine.start(p, c);
    const result: JourneyResult = await handle.result();
    expect(result.sends).toEqual([expect.objectContaining({ stepId: 'hello', outcome: 'sent' })]);
    const key = `${handle.workflowId}:hello:0`;
    expect(calls.filter((x) => x.key === key)).toEqual([{ key, local: true, attempt: 1 }]);
    expect(await sendTasks(handle.workflowId)).toBe(0);
    expect((await activityCalls(engine.client, handle.workflowId)).filter((t) => t === 'sendEmail')).toHaveLength(1);
    expect(delivered.filter((to) => to === email)).toHaveLength(1);
    expect(await sendsOf(c)).toEqual([expect.objectContaining({ key, status: 'sent', attempt: 1 })]);
  });

  it('goes on as a retried activity task, shown in describe, while the relay refuses; sends once when it is back', async () => {
    const p = await deploy(plan('send-local-retry', [{ id: 'hello', kind: 'send', template: 'welcome', marketing: true }]));
    const c = await contact();
    const email = String((await contactDoc(c)).email);
    refusing.add(email);
    const handle = await engine.start(p, c);
    const key = `${handle.workflowId}:hello:0`;
    // What `sojourn status` shows meanwhile: the send task being retried, with the relay's refusal.
    const retry = await eventually(async () => pendingRetries(await handle.describe()).find((r) => r.activity === 'sendEmail' && r.attempt >= 2), 20_000);
    expect(retry.lastFailure).toMatch(/ECONNREFUSED/);
    expect(await sendsOf(c)).toEqual([expect.objectContaining({ key, status: 'pending', error: expect.stringMatching(/ECONNREFUSED/) })]);
    refusing.delete(email);
    const result: JourneyResult = await handle.result();
    expect(result.sends).toEqual([expect.objectContaining({ stepId: 'hello', outcome: 'sent' })]);
    const mine = calls.filter((x) => x.key === key);
    expect(mine[0]).toEqual({ key, local: true, attempt: 1 });
    expect(mine.slice(1)).toEqual(mine.slice(1).map((_, i) => ({ key, local: false, attempt: i + 1 })));
    expect(mine.length).toBeGreaterThanOrEqual(3);
    expect(await sendTasks(handle.workflowId)).toBe(1);
    expect(delivered.filter((to) => to === email)).toHaveLength(1);
    // The ledger counts the local attempt too: the attempt that sent is the last of all of them.
    expect(await sendsOf(c)).toEqual([expect.objectContaining({ key, status: 'sent', attempt: mine.length })]);
  });
});

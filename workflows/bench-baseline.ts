/**
 * The hand-written baseline for bench/engine.bench.ts: send, sleep 1s, send, calling the same gate and
 * send activities as the interpreter, with no plan, no exit checks and no search attributes.
 */
import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { GateActivities } from '../activities/gate';
import type { SendActivities } from '../activities/send';
import type { Settings } from '../rules/plan';

const acts = proxyActivities<GateActivities & SendActivities>({ startToCloseTimeout: '30 seconds' });

export async function handWrittenSendWaitSend(input: { journeyId: string; contactId: string; templates: [string, string]; settings: Settings }): Promise<number> {
  let sent = 0;
  const { workflowId } = workflowInfo();
  for (const [i, templateId] of input.templates.entries()) {
    if (i > 0) await sleep('1 second');
    const stepId = `s${i + 1}`;
    const key = `${workflowId}:${stepId}:0`;
    const gate = await acts.gateSend({ contactId: input.contactId, journeyId: input.journeyId, stepId, templateId, marketing: true, key, settings: input.settings, now: new Date(Date.now()).toISOString() });
    if (gate.outcome !== 'send') continue;
    const r = await acts.sendEmail({ key, workflowId, contactId: input.contactId, journeyId: input.journeyId, stepId, templateId });
    if (r.status === 'sent') sent++;
  }
  return sent;
}

const noop = proxyActivities<{ benchNoop(): Promise<void> }>({ startToCloseTimeout: '30 seconds' });

/**
 * The ceiling baseline for bench/engine.bench.ts: the same number of activities as an interpreter run
 * of send -> wait 1s -> send, each a no-op (registered by the bench only), around the same 1 s timer. What
 * this reaches is what the dev server and the worker can do at all; the interpreter is judged against it.
 */
export async function noopCeiling(input: { before: number; after: number }): Promise<number> {
  for (let i = 0; i < input.before; i++) await noop.benchNoop();
  await sleep('1 second');
  for (let i = 0; i < input.after; i++) await noop.benchNoop();
  return input.before + input.after;
}

import { DAY, contact, deploy, eventually, plan, useEngine } from '../helpers';
import { createEventDispatcher } from '../../../engine/dispatch';
import { journeyWorkflowId, statusQuery, type JourneyResult } from '../../../workflows/definitions';
import { SOJOURN_JOURNEY, SOJOURN_STATUS, SOJOURN_STEP, SOJOURN_VERSION } from '../../../workflows/search-attributes';

const journey = (template: string) => plan('pinned', [
  { id: 'pause', kind: 'wait', mode: 'duration', ms: 2 * DAY },
  { id: 'hello', kind: 'send', template, marketing: true },
], { trigger: { kind: 'event', event: 'signup' } });

describe('journey versions', () => {
  const engine = useEngine();

  it('lets waiting runs finish on the version they started with while new runs start on the new one', async () => {
    const dispatcher = createEventDispatcher({ client: engine.env.client, taskQueue: engine.taskQueue });
    const v1 = await deploy(journey('hello_v1'));
    const early = await contact();
    await dispatcher.dispatch({ contactId: early, name: 'signup', at: new Date(), eventId: 'a', data: {} });
    const earlyRun = engine.env.client.workflow.getHandle(journeyWorkflowId('pinned', early));
    await eventually(async () => (await earlyRun.query(statusQuery)).waitingFor === 'timer');

    const v2 = await deploy(journey('hello_v2'));
    expect([v1.version, v2.version]).toEqual([1, 2]);
    const late = await contact();
    await dispatcher.dispatch({ contactId: late, name: 'signup', at: new Date(), eventId: 'b', data: {} });
    const lateRun = engine.env.client.workflow.getHandle(journeyWorkflowId('pinned', late));

    const earlyResult: JourneyResult = await earlyRun.result();
    const lateResult: JourneyResult = await lateRun.result();
    expect(earlyResult.sends.map((s) => s.templateId)).toEqual(['hello_v1']);
    expect(lateResult.sends.map((s) => s.templateId)).toEqual(['hello_v2']);
    expect((await earlyRun.describe()).typedSearchAttributes.get(SOJOURN_VERSION)).toBe(1);
    expect((await lateRun.describe()).typedSearchAttributes.get(SOJOURN_VERSION)).toBe(2);
  });

  it('upserts journey, step and status search attributes as the run moves', async () => {
    const p = await deploy(plan('attrs', [
      { id: 'wait_a_day', kind: 'wait', mode: 'duration', ms: DAY },
      { id: 'hello', kind: 'send', template: 'hello', marketing: true },
    ]));
    const handle = await engine.start(p, await contact());
    await eventually(async () => (await handle.query(statusQuery)).waitingFor === 'timer');
    const waiting = (await handle.describe()).typedSearchAttributes;
    expect([waiting.get(SOJOURN_JOURNEY), waiting.get(SOJOURN_STEP), waiting.get(SOJOURN_STATUS)]).toEqual(['attrs', 'wait_a_day', 'running']);
    await handle.result();
    const done = (await handle.describe()).typedSearchAttributes;
    expect([done.get(SOJOURN_STEP), done.get(SOJOURN_STATUS)]).toEqual(['hello', 'completed']);
  });

  it('routes an event by the version a run is pinned to: a v1 run still gets what v1 waits for after v2 stopped listening', async () => {
    const dispatcher = createEventDispatcher({ client: engine.env.client, taskQueue: engine.taskQueue });
    await deploy(plan('pinned_listen', [
      { id: 'wait_for_quiz', kind: 'wait_for', event: 'quiz.answered', timeoutMs: 5 * DAY, onTimeout: null },
      { id: 'thanks', kind: 'send', template: 'thanks', marketing: true },
    ], { trigger: { kind: 'event', event: 'join' } }));
    const c = await contact();
    await dispatcher.dispatch({ contactId: c, name: 'join', at: new Date(), eventId: `join-${c}`, data: {} });
    const run = engine.env.client.workflow.getHandle(journeyWorkflowId('pinned_listen', c));
    await eventually(async () => (await run.query(statusQuery)).waitingFor === 'event:quiz.answered');
    // v2 no longer waits for the quiz (and no longer has exit_when): its routes do not list the event.
    await deploy(plan('pinned_listen', [{ id: 'wait', kind: 'wait', mode: 'duration', ms: DAY }], { trigger: { kind: 'event', event: 'join' } }));
    const other = await contact();
    await dispatcher.dispatch({ contactId: other, name: 'join', at: new Date(), eventId: `join-${other}`, data: {} });
    const v2run = engine.env.client.workflow.getHandle(journeyWorkflowId('pinned_listen', other));
    await eventually(async () => (await v2run.query(statusQuery)).waitingFor === 'timer');

    const r = await dispatcher.dispatch({ contactId: c, name: 'quiz.answered', at: new Date(), eventId: `quiz-${c}`, data: {} });
    expect(r.signalled).toEqual([journeyWorkflowId('pinned_listen', c)]);
    // The v2 run is pinned to a version that does not listen: it is not signalled. Checked before
    // awaiting the v1 result, because awaiting a result lets the time-skipping server jump past the
    // v2 run's one-day timer, and a completed run is not a candidate at all.
    const r2 = await dispatcher.dispatch({ contactId: other, name: 'quiz.answered', at: new Date(), eventId: `quiz-${other}`, data: {} });
    expect([r2.signalled, r2.notListening]).toEqual([[], [journeyWorkflowId('pinned_listen', other)]]);
    const result: JourneyResult = await run.result();
    expect(result.sends.map((s) => s.templateId)).toEqual(['thanks']);
  });
});

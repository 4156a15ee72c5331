import { DAY, contact, deploy, eventually, plan, useEngine } from '../helpers';
import { createEventDispatcher } from '../../../worker/dispatch';
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
    await dispatcher.dispatch({ contactId: early, name: 'signup', at: new Date(), eventId: 'a' });
    const earlyRun = engine.env.client.workflow.getHandle(journeyWorkflowId('pinned', early));
    await eventually(async () => (await earlyRun.query(statusQuery)).waitingFor === 'timer');

    const v2 = await deploy(journey('hello_v2'));
    expect([v1.version, v2.version]).toEqual([1, 2]);
    const late = await contact();
    await dispatcher.dispatch({ contactId: late, name: 'signup', at: new Date(), eventId: 'b' });
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
});

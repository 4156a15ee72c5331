/**
 * Decision 41: search attributes of steps a run passes through are written with the next upsert, where
 * the run can be held (a wait, a send, a call) or ends, so visibility (the Temporal UI, `sojourn status
 * <journey>`) shows the step a run waits or sends at, while the `status` query is exact at every moment.
 */
import { DAY, contact, deploy, eventually, localActivityType, plan, useEngine } from '../helpers';
import { statusQuery, type JourneyResult } from '../../../workflows/definitions';
import type { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES_ON_BLOCK_PATCH } from '../../../workflows/run';
import { LOCAL_SEND_PATCH } from '../../../workflows/activities';
import { SOJOURN_JOURNEY, SOJOURN_STATUS, SOJOURN_STEP, SOJOURN_VARIANT } from '../../../workflows/search-attributes';

describe('search attributes', () => {
  const engine = useEngine();

  it('are written once per block: while the run waits and sends visibility shows that step, and the end shows the last one', async () => {
    const p = await deploy(plan('attrs-burst', [
      { id: 'first', kind: 'if', cond: { source: 'contact.consent.email == "subscribed"' }, then: null, else: null },
      { id: 'mark', kind: 'update', addTags: ['seen'] },
      { id: 'ab', kind: 'split', branches: [{ name: 'a', weight: 100, start: null, holdout: false }] },
      { id: 'nap', kind: 'wait', mode: 'duration', ms: DAY },
      { id: 'check', kind: 'if', cond: { source: '"seen" in contact.tags' }, then: null, else: null },
      { id: 'hello', kind: 'send', template: 'hello', marketing: true },
    ], { exitWhen: { source: 'contact.consent.email == "unsubscribed"' } }));
    const handle = await engine.start(p, await contact());
    const status = await eventually(async () => {
      const s = await handle.query(statusQuery);
      return s.waitingFor === 'timer' ? s : null;
    });
    expect(status.step).toBe('nap');
    const waiting = (await handle.describe()).typedSearchAttributes;
    expect([waiting.get(SOJOURN_JOURNEY), waiting.get(SOJOURN_STEP), waiting.get(SOJOURN_STATUS), waiting.get(SOJOURN_VARIANT)])
      .toEqual(['attrs-burst', 'nap', 'running', 'ab:a']);

    const r: JourneyResult = await handle.result();
    expect(r.sends.map((s) => s.outcome)).toEqual(['sent']);
    const done = (await handle.describe()).typedSearchAttributes;
    expect([done.get(SOJOURN_STEP), done.get(SOJOURN_STATUS)]).toEqual(['hello', 'completed']);

    // The history: one upsert before the timer (journey, version, contact, status, variant and `nap`),
    // one at the send (`hello`), one at the end. Before decision 41: 1 + 6 steps + variant + end = 9.
    // The send itself is a local activity (decision 46), no activity task.
    const { marks, patches } = await upsertsOf(handle);
    expect(patches).toEqual(expect.arrayContaining([SEARCH_ATTRIBUTES_ON_BLOCK_PATCH, LOCAL_SEND_PATCH]));
    expect(marks).toEqual([
      'upsert step=nap status=running', 'timer',
      'upsert step=hello status=null', 'local sendEmail',
      'upsert step=null status=completed',
    ]);
  });

  it('are written as before by a run that passes through no step, which does not take the patch', async () => {
    const p = await deploy(plan('attrs-blocking', [
      { id: 'nap', kind: 'wait', mode: 'duration', ms: DAY },
      { id: 'hello', kind: 'send', template: 'hello', marketing: true },
    ]));
    const handle = await engine.start(p, await contact());
    await handle.result();
    const { marks, patches } = await upsertsOf(handle);
    expect(marks).toEqual([
      'upsert step=null status=running', 'upsert step=nap status=null', 'timer',
      'upsert step=hello status=null', 'local sendEmail',
      'upsert step=null status=completed',
    ]);
    expect(patches).toContain(LOCAL_SEND_PATCH);
    expect(patches).not.toContain(SEARCH_ATTRIBUTES_ON_BLOCK_PATCH);
  });
});

/** Sojourn's search-attribute upserts, timers, activity tasks and local sends of a run in order, and the patches it took. */
async function upsertsOf(handle: { fetchHistory(): Promise<{ events?: temporal.api.history.v1.IHistoryEvent[] | null }> }): Promise<{ marks: string[]; patches: string[] }> {
  const events = (await handle.fetchHistory()).events ?? [];
  const marks: string[] = [];
  const patches: string[] = [];
  const text = (p?: temporal.api.common.v1.IPayload | null): unknown => (p?.data ? JSON.parse(Buffer.from(p.data).toString('utf8')) : null);
  for (const e of events) {
    const fields = e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields;
    // The SDK's own upserts (TemporalChangeVersion: the patches a run took) are listed apart.
    if (fields?.TemporalChangeVersion) patches.push(...(text(fields.TemporalChangeVersion) as string[]));
    else if (fields) marks.push(`upsert step=${text(fields.SojournStep)} status=${text(fields.SojournStatus)}`);
    if (e.timerStartedEventAttributes) marks.push('timer');
    if (e.activityTaskScheduledEventAttributes) marks.push(`activity ${e.activityTaskScheduledEventAttributes.activityType?.name}`);
    if ((await localActivityType(e)) === 'sendEmail') marks.push('local sendEmail');
  }
  return { marks, patches };
}

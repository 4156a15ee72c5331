/**
 * Decision 39: one contact read serves every exit check and condition of a burst of steps, and is read
 * anew after the run writes the contact, waits or gets an event, so no condition misses a change the run
 * could know of.
 */
import { DAY, activityCalls, changeContact, contact, contactDoc, deploy, eventually, plan, useEngine } from '../helpers';
import { statusQuery, type JourneyResult } from '../../../workflows/definitions';

describe('contact reads within a burst of steps', () => {
  const engine = useEngine();

  const journey = (id: string) => deploy(plan(id, [
    { id: 'subscribed', kind: 'if', cond: { source: 'contact.consent.email == "subscribed"' }, then: null, else: null },
    { id: 'vip', kind: 'if', cond: { source: '"vip" in contact.tags' }, then: null, else: null },
    { id: 'mark', kind: 'update', addTags: ['marked'] },
    // Right after the run's own write: must see it.
    { id: 'marked', kind: 'if', cond: { source: '"marked" in contact.tags' }, then: 'saw_mark', else: 'nap' },
    { id: 'saw_mark', kind: 'update', addTags: ['saw_mark'], next: 'nap' },
    { id: 'nap', kind: 'wait', mode: 'duration', ms: DAY },
    // After a wait: must see what changed meanwhile, even without an event.
    { id: 'changed', kind: 'if', cond: { source: '"changed" in contact.tags' }, then: 'saw_change', else: null, next: null },
    { id: 'saw_change', kind: 'update', addTags: ['saw_change'], next: null },
  ], { exitWhen: { source: 'contact.consent.email == "unsubscribed"' } }));

  it('reads the contact once per burst: after the run\'s own writes and after a wait, not before every check', async () => {
    const p = await journey('reads-burst');
    const c = await contact();
    const handle = await engine.start(p, c);
    await eventually(async () => (await handle.query(statusQuery)).waitingFor === 'timer');
    await changeContact(c, { tags: ['marked', 'saw_mark', 'changed'] });
    const r: JourneyResult = await handle.result();
    expect(r).toMatchObject({ outcome: 'completed', step: 'saw_change' });
    expect((await contactDoc(c)).tags).toEqual(expect.arrayContaining(['saw_mark', 'saw_change']));
    // Reads: before `subscribed` (serving both ifs and the exit checks up to `mark`), after `mark` wrote,
    // after `saw_mark` wrote (the exit check of `nap`), after the wait. Before decision 39: 12.
    const reads = (await activityCalls(engine.client, handle.workflowId)).filter((t) => t === 'loadContact');
    expect(reads).toHaveLength(4);
  });
});

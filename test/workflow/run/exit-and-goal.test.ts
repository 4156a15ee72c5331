import { DAY, changeContact, contact, deploy, eventually, plan, sendsOf, useEngine } from '../helpers';
import { eventSignal, statusQuery, type JourneyResult } from '../../../workflows/definitions';

const steps = [
  { id: 'welcome', kind: 'send' as const, template: 'welcome', marketing: true },
  { id: 'two_days', kind: 'wait' as const, mode: 'duration' as const, ms: 2 * DAY },
  { id: 'tips', kind: 'send' as const, template: 'tips', marketing: true },
];

describe('exit_when and goals', () => {
  const engine = useEngine();

  it('exits mid-wait when an arriving event finds exit_when true, and sends nothing more', async () => {
    const p = await deploy(plan('exit-when-mid-wait', steps, { exitWhen: { source: 'contact.consent.email != "subscribed"' } }));
    const c = await contact();
    const handle = await engine.start(p, c);
    await eventually(async () => (await handle.query(statusQuery)).step === 'two_days');
    await changeContact(c, { 'consent.email.status': 'unsubscribed' });
    await handle.signal(eventSignal, { name: 'email.unsubscribed', at: new Date().toISOString(), eventId: 'u1' });
    const r: JourneyResult = await handle.result();
    expect(r).toMatchObject({ outcome: 'exited', reason: 'exit_when', step: 'two_days' });
    expect(r.sends.map((s) => s.templateId)).toEqual(['welcome']);
  });

  it('checks exit_when before each step, so a change without an event still stops the next send', async () => {
    const p = await deploy(plan('exit-when-before-step', steps, { exitWhen: { source: '"stop" in contact.tags' } }));
    const c = await contact();
    const handle = await engine.start(p, c);
    await eventually(async () => (await handle.query(statusQuery)).step === 'two_days');
    await changeContact(c, { tags: ['stop'] });
    const r: JourneyResult = await handle.result();
    expect(r).toMatchObject({ outcome: 'exited', reason: 'exit_when', step: 'two_days' });
    expect(r.sends.map((s) => s.templateId)).toEqual(['welcome']);
    expect((await sendsOf(c)).map((s) => s.templateId)).toEqual(['welcome']);
  });

  it('ends the run as converted when the goal event arrives within the goal window', async () => {
    const p = await deploy(plan('goal-reached', steps, { goal: { event: 'order.completed', withinMs: 14 * DAY, when: { source: 'event.data.amount > 0' } } }));
    const handle = await engine.start(p, await contact());
    await eventually(async () => (await handle.query(statusQuery)).step === 'two_days');
    await handle.signal(eventSignal, { name: 'order.completed', at: new Date().toISOString(), eventId: 'o0', data: { amount: 0 } });
    await handle.signal(eventSignal, { name: 'order.completed', at: new Date().toISOString(), eventId: 'o1', data: { amount: 42 } });
    const r: JourneyResult = await handle.result();
    expect(r).toMatchObject({ outcome: 'converted', reason: 'goal:order.completed', step: 'two_days' });
    expect(r.sends).toHaveLength(1);
    expect(await handle.query(statusQuery)).toMatchObject({ outcome: 'converted' });
  });
});

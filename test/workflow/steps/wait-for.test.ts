import { DAY, contact, deploy, eventually, plan, useEngine } from '../helpers';
import { eventSignal, statusQuery, type JourneyResult } from '../../../workflows/definitions';

const journey = (id: string) => plan(id, [
  { id: 'welcome', kind: 'send', template: 'welcome', marketing: false },
  { id: 'wait_for_click', kind: 'wait_for', event: 'email.clicked', correlate: { source: 'event.data.templateId == "welcome"' }, timeoutMs: 5 * DAY, onTimeout: 'nudge' },
  { id: 'thanks', kind: 'send', template: 'thanks', marketing: false, next: null },
  { id: 'nudge', kind: 'update', addTags: ['cold_start'], next: null },
]);

describe('the wait_for step', () => {
  const engine = useEngine();

  it('continues on the main path when the awaited event arrives before the timeout', async () => {
    const p = await deploy(journey('wait-for-receive'));
    const handle = await engine.start(p, await contact());
    await eventually(async () => (await handle.query(statusQuery)).waitingFor === 'event:email.clicked');
    await handle.signal(eventSignal, { name: 'email.clicked', at: new Date().toISOString(), eventId: 'e1', data: { templateId: 'welcome' } });
    const result: JourneyResult = await handle.result();
    expect(result.sends.map((s) => s.templateId)).toEqual(['welcome', 'thanks']);
    expect(result.outcome).toBe('completed');
  });

  it('ignores an event whose correlation does not match and takes the on_timeout branch when time runs out', async () => {
    const p = await deploy(journey('wait-for-timeout'));
    const c = await contact();
    const handle = await engine.start(p, c);
    await eventually(async () => (await handle.query(statusQuery)).waitingFor === 'event:email.clicked');
    await handle.signal(eventSignal, { name: 'email.clicked', at: new Date().toISOString(), eventId: 'e2', data: { templateId: 'other' } });
    const result: JourneyResult = await handle.result();
    expect(result.sends.map((s) => s.templateId)).toEqual(['welcome']);
    expect(result.step).toBe('nudge');
    const { contactDoc } = await import('../helpers');
    expect((await contactDoc(c)).tags).toEqual(['cold_start']);
  });
});

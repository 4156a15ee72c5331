import { contact, deploy, plan, useEngine } from '../helpers';
import type { JourneyResult } from '../../../workflows/definitions';

describe('the if step', () => {
  const engine = useEngine();
  const journey = () => deploy(plan('if-vip', [
    { id: 'is_vip', kind: 'if', cond: { source: '"vip" in contact.tags' }, then: 'vip_offer', else: 'standard_offer' },
    { id: 'vip_offer', kind: 'send', template: 'vip_offer', marketing: false, next: 'done' },
    { id: 'standard_offer', kind: 'send', template: 'standard_offer', marketing: false, next: 'done' },
    { id: 'done', kind: 'update', addTags: ['offered'] },
  ]));

  it('takes the then branch when the condition holds and rejoins the main path', async () => {
    const p = await journey();
    const r: JourneyResult = await (await engine.start(p, await contact({ tags: ['vip'] }))).result();
    expect(r.sends.map((s) => s.templateId)).toEqual(['vip_offer']);
    expect(r.step).toBe('done');
  });

  it('compares timestamps inside the workflow sandbox (contact dates, now, durations)', async () => {
    const p = await deploy(plan('if-timestamps', [
      { id: 'recent', kind: 'if', cond: { source: 'contact.createdAt < now && now - contact.createdAt > duration("1s") && now > timestamp("2020-01-01T00:00:00Z")' }, then: 'yes', else: null, next: null },
      { id: 'yes', kind: 'update', addTags: ['recent'], next: null },
    ]));
    const r: JourneyResult = await (await engine.start(p, await contact())).result();
    expect(r.step).toBe('yes');
  });

  it('takes the else branch when the condition is false', async () => {
    const p = await journey();
    const r: JourneyResult = await (await engine.start(p, await contact())).result();
    expect(r.sends.map((s) => s.templateId)).toEqual(['standard_offer']);
  });
});

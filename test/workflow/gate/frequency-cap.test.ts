import { DAY, contact, deploy, plan, sendsOf, useEngine } from '../helpers';
import type { JourneyResult } from '../../../workflows/definitions';

const settings = { defaultTimezone: 'UTC', frequency: { max: 2, perMs: 7 * DAY } };

describe('the frequency cap', () => {
  const engine = useEngine();

  it('holds across two journeys: the third marketing email in the window is skipped, a receipt still goes', async () => {
    const welcome = await deploy(plan('cap-welcome', [
      { id: 'w1', kind: 'send', template: 'welcome', marketing: true },
      { id: 'w2', kind: 'send', template: 'welcome_tips', marketing: true },
    ], { settings }));
    const promo = await deploy(plan('cap-promo', [
      { id: 'p1', kind: 'send', template: 'promo', marketing: true },
      { id: 'r1', kind: 'send', template: 'receipt', marketing: false },
    ], { settings }));
    const c = await contact();
    const first: JourneyResult = await (await engine.start(welcome, c)).result();
    const second: JourneyResult = await (await engine.start(promo, c)).result();
    expect(first.sends.map((s) => s.outcome)).toEqual(['sent', 'sent']);
    expect(second.sends).toEqual([
      expect.objectContaining({ templateId: 'promo', outcome: 'skip', reason: 'frequency_cap' }),
      expect.objectContaining({ templateId: 'receipt', outcome: 'sent' }),
    ]);
    expect((await sendsOf(c)).map((s) => s.templateId)).toEqual(['welcome', 'welcome_tips', 'receipt']);
  });
});

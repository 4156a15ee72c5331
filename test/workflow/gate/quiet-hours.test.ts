import { calendar, contact, deploy, plan, second, startAt, useEngine } from '../helpers';
import type { JourneyResult } from '../../../workflows/definitions';

const settings = { defaultTimezone: 'UTC', quietHours: { from: '21:00', to: '08:00' } };

describe('quiet hours', () => {
  const engine = useEngine();

  it('defers a marketing send at 23:30 in Shanghai to 08:00 local time the next morning', async () => {
    const p = await deploy(plan('quiet-shanghai', [{ id: 'promo', kind: 'send', template: 'promo', marketing: true }], { settings }));
    const cal = await calendar(engine);
    const sh = 'Asia/Shanghai';
    const r: JourneyResult = await (await engine.start(p, await contact({ timezone: sh }), startAt(cal.local(sh, 1, 10, 23, 30)))).result();
    expect(r.sends[0]).toMatchObject({ outcome: 'sent', deferrals: 1 });
    expect(second(r.sends[0].at)).toBe(cal.local(sh, 1, 11, 8, 0));
  });

  it('defers a send at 22:00 in New York on the eve of the spring-forward change to 08:00 daylight time, nine hours later', async () => {
    const p = await deploy(plan('quiet-new-york', [{ id: 'promo', kind: 'send', template: 'promo', marketing: true }], { settings }));
    const cal = await calendar(engine);
    const ny = 'America/New_York';
    const sunday = cal.secondSundayOfMarch();
    const start = cal.local(ny, 3, sunday - 1, 22, 0);
    const r: JourneyResult = await (await engine.start(p, await contact({ timezone: ny }), startAt(start))).result();
    expect(second(r.sends[0].at)).toBe(cal.local(ny, 3, sunday, 8, 0));
    expect(Date.parse(second(r.sends[0].at)) - Date.parse(start)).toBe(9 * 3600_000);
  });

  it('lets a transactional email through during quiet hours', async () => {
    const p = await deploy(plan('quiet-transactional', [{ id: 'receipt', kind: 'send', template: 'receipt', marketing: false }], { settings }));
    const cal = await calendar(engine);
    const start = cal.local('Asia/Shanghai', 1, 10, 23, 30);
    const r: JourneyResult = await (await engine.start(p, await contact({ timezone: 'Asia/Shanghai' }), startAt(start))).result();
    expect(r.sends[0]).toMatchObject({ outcome: 'sent', deferrals: 0 });
    expect(second(r.sends[0].at)).toBe(start);
  });
});

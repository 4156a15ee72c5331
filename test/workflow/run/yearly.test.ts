import { calendar, contact, deploy, eventually, historyLengthsOfChain, plan, sendsOf, startAt, useEngine } from '../helpers';
import { statusQuery } from '../../../workflows/definitions';

describe('yearly journeys', () => {
  const engine = useEngine();

  it('loops a birthday journey year after year through continue-as-new, each year under 200 history events', async () => {
    const p = await deploy(plan('birthday-care', [
      { id: 'until_birthday', kind: 'wait', mode: 'date_field', field: 'birthday', at: '09:00' },
      { id: 'wish', kind: 'send', template: 'birthday', marketing: false, next: 'until_birthday' },
    ]));
    const c = await contact({ timezone: 'Asia/Tokyo', birthday: { month: 2, day: 29 } });
    const cal = await calendar(engine);
    const handle = await engine.start(p, c, startAt(cal.local('UTC', 1, 1, 0)));
    // Two birthdays: 28 Feb of the non-leap calendar year, then the one after.
    await engine.env.sleep(Date.parse(cal.local('UTC', 3, 1, 0, 0, cal.year + 1)) - (await engine.env.currentTimeMs()));
    await eventually(async () => (await handle.query(statusQuery)).iteration === 2);

    const sends = await sendsOf(c);
    expect(sends.map((s) => s.key)).toEqual([`${handle.workflowId}:wish:0`, `${handle.workflowId}:wish:1`]);

    // Follow the chain of runs (the test server has no visibility list) and count each run's events.
    const runs = await historyLengthsOfChain(engine.env.client, handle.workflowId, handle.firstExecutionRunId);
    expect(runs.length).toBe(3);
    for (const n of runs) expect(n).toBeLessThan(200);
    await handle.terminate('test done');
  });
});

import { DAY, calendar, contact, deploy, eventually, plan, second, startAt, useEngine } from '../helpers';
import { statusQuery, type JourneyResult } from '../../../workflows/definitions';

describe('the wait step', () => {
  const engine = useEngine();

  it('waits a duration, and the status query says what the run waits for and until when', async () => {
    const p = await deploy(plan('wait-duration', [
      { id: 'nap', kind: 'wait', mode: 'duration', ms: 3 * DAY },
      { id: 'hello', kind: 'send', template: 'hello', marketing: false },
    ]));
    const handle = await engine.start(p, await contact());
    const status = await eventually(async () => {
      const s = await handle.query(statusQuery);
      return s.waitingFor ? s : null;
    });
    expect(status).toMatchObject({ step: 'nap', waitingFor: 'timer', reason: 'wait step nap', iteration: 0 });
    const started = (await handle.describe()).startTime.getTime();
    expect(Date.parse(status.until!) - started).toBeGreaterThanOrEqual(3 * DAY - 60_000);
    const result: JourneyResult = await handle.result();
    expect(Date.parse(result.sends[0].at) - started).toBeGreaterThanOrEqual(3 * DAY);
  });

  it('waits until 09:00 the next morning in the contact time zone', async () => {
    const p = await deploy(plan('wait-local', [
      { id: 'morning', kind: 'wait', mode: 'time_of_day', at: '09:00' },
      { id: 'hello', kind: 'send', template: 'hello', marketing: false },
    ]));
    const c = await contact({ timezone: 'Asia/Shanghai' });
    const cal = await calendar(engine);
    const sh = 'Asia/Shanghai';
    const result: JourneyResult = await (await engine.start(p, c, startAt(cal.local(sh, 1, 10, 23, 30)))).result();
    expect(second(result.sends[0].at)).toBe(cal.local(sh, 1, 11, 9, 0));
  });

  it('waits for a birthday on 29 February until 28 February at 09:00 local time in a non-leap year', async () => {
    const p = await deploy(plan('wait-birthday', [
      { id: 'birthday', kind: 'wait', mode: 'date_field', field: 'birthday', at: '09:00' },
      { id: 'wish', kind: 'send', template: 'birthday', marketing: false },
    ]));
    const c = await contact({ timezone: 'Asia/Tokyo', birthday: { month: 2, day: 29 } });
    const cal = await calendar(engine); // a non-leap year
    const result: JourneyResult = await (await engine.start(p, c, startAt(cal.local('Asia/Tokyo', 2, 1, 0)))).result();
    expect(second(result.sends[0].at)).toBe(cal.local('Asia/Tokyo', 2, 28, 9, 0));
  });

  it('waits for a local time that falls in the spring-forward gap until the clock has moved past it', async () => {
    const p = await deploy(plan('wait-dst-gap', [
      { id: 'early', kind: 'wait', mode: 'time_of_day', at: '02:30' },
      { id: 'hello', kind: 'send', template: 'hello', marketing: false },
    ]));
    const c = await contact({ timezone: 'America/New_York' });
    // Midnight EST on the spring-forward day: 02:30 does not exist that night, it becomes 03:30 EDT.
    const cal = await calendar(engine);
    const ny = 'America/New_York';
    const day = cal.secondSundayOfMarch();
    const result: JourneyResult = await (await engine.start(p, c, startAt(cal.local(ny, 3, day, 0)))).result();
    expect(second(result.sends[0].at)).toBe(cal.local(ny, 3, day, 3, 30));
    expect(Date.parse(result.sends[0].at) - Date.parse(cal.local(ny, 3, day, 0))).toBeLessThan(3 * 3600_000 + 1000);
  });

  it('ends the run when a birthday wait meets a contact without a birthday', async () => {
    const p = await deploy(plan('wait-no-birthday', [{ id: 'birthday', kind: 'wait', mode: 'date_field', field: 'birthday', at: '09:00' }]));
    const result: JourneyResult = await (await engine.start(p, await contact())).result();
    expect(result).toMatchObject({ outcome: 'exited', reason: 'no_birthday' });
  });
});

import { calendar, contact, deploy, plan, sendsOf, useEngine } from '../helpers';

const minute = (iso: string) => iso.slice(0, 16);
import { journeyWorkflowId, type JourneyResult } from '../../../workflows/definitions';

describe('birthday (yearly date) triggers', () => {
  const engine = useEngine();

  it('wishes a 29 February birthday on 28 February at 09:00 local time in a non-leap year, including contacts added after earlier scans', async () => {
    await deploy(plan('bday', [{ id: 'wish', kind: 'send', template: 'birthday', marketing: true }], {
      trigger: { kind: 'date', field: 'birthday', at: '09:00' },
    }));
    const cal = await calendar(engine); // a non-leap year
    const leapling = await contact({ timezone: 'Asia/Tokyo', birthday: { month: 2, day: 29 } });
    const notYet = await contact({ timezone: 'Europe/Paris', birthday: { month: 3, day: 15 } });
    const scan = (day: number, id: string) => engine.client.workflow.execute('birthdayScan', {
      taskQueue: engine.taskQueue, workflowId: id, args: [{ journeyId: 'bday', scanAt: cal.local('UTC', 2, day, 12) }],
    });
    expect(await scan(24, 'bday-scan-24')).toMatchObject({ started: 0 });
    // Added after an earlier daily scan; a later one still finds her.
    const losAngeles = await contact({ timezone: 'America/Los_Angeles', birthday: { month: 2, day: 28 } });
    expect(await scan(27, 'bday-scan-27')).toMatchObject({ started: 2, alreadyEntered: 0 });
    expect(await scan(27, 'bday-scan-27-again')).toMatchObject({ started: 0, alreadyEntered: 2 });

    await engine.advanceTo(cal.local('UTC', 3, 1, 0));
    const tokyo: JourneyResult = await engine.client.workflow.getHandle(journeyWorkflowId('bday', leapling, String(cal.year))).result();
    const la: JourneyResult = await engine.client.workflow.getHandle(journeyWorkflowId('bday', losAngeles, String(cal.year))).result();
    // The send's time is the activity's clock: under load, real seconds pass between the timer firing at
    // 09:00:00 and the activity running, so it is checked to the minute (a wrong hour or day is hours off).
    expect(minute(tokyo.sends[0].at)).toBe(minute(cal.local('Asia/Tokyo', 2, 28, 9)));
    expect(minute(la.sends[0].at)).toBe(minute(cal.local('America/Los_Angeles', 2, 28, 9)));
    expect(await sendsOf(notYet)).toHaveLength(0);
  });
});

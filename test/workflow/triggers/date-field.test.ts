import mongoose from 'mongoose';
import { calendar, changeContact, contact, deploy, plan, useEngine } from '../helpers';
import { journeyWorkflowId, type JourneyResult } from '../../../workflows/definitions';
import { ensureContactDateIndex } from '../../../data/contact-date-index';

const minute = (iso: string) => iso.slice(0, 16);

describe('date triggers on contact dates', () => {
  const engine = useEngine();

  it('reminds 14 days before a date attribute stored as text or as an instant, at 09:00 local, once', async () => {
    await deploy(plan('due', [{ id: 'remind', kind: 'send', template: 'birthday', marketing: true }], {
      trigger: { kind: 'date', field: 'attributes.dueDate', offsetDays: -14, at: '09:00' },
    }));
    expect(await ensureContactDateIndex('attributes.dueDate')).toBe('date_attributes.dueDate');
    const indexes = await mongoose.connection.collection('contacts').indexes();
    expect(indexes.map((i) => i.name)).toContain('date_attributes.dueDate');

    const cal = await calendar(engine);
    const text = await contact({ timezone: 'Asia/Shanghai', attributes: { dueDate: `${cal.year}-04-20` } });
    const instant = await contact({ timezone: 'America/New_York' });
    await changeContact(instant, { 'attributes.dueDate': new Date(Date.UTC(cal.year, 3, 20, 15)) }); // 20 Apr 11:00 in New York
    const later = await contact({ timezone: 'UTC', attributes: { dueDate: `${cal.year}-04-25` } });
    const lastYear = await contact({ timezone: 'UTC', attributes: { dueDate: `${cal.year - 1}-04-20` } });
    const scan = (day: number, id: string) => engine.client.workflow.execute('birthdayScan', {
      taskQueue: engine.taskQueue, workflowId: id, args: [{ journeyId: 'due', scanAt: cal.local('UTC', 4, day, 0, 5) }],
    });
    // 6 April is 14 days before 20 April: the scan the day before finds both, and only them.
    expect(await scan(1, 'due-scan-1')).toMatchObject({ started: 0 });
    expect(await scan(5, 'due-scan-5')).toMatchObject({ scanned: 2, started: 2 });
    expect(await scan(5, 'due-scan-5-again')).toMatchObject({ started: 0, alreadyEntered: 2 });
    await engine.advanceTo(cal.local('UTC', 4, 7, 0));
    const sent = async (c: string) => {
      const r: JourneyResult = await engine.client.workflow.getHandle(journeyWorkflowId('due', c, String(cal.year))).result();
      return minute(r.sends[0].at);
    };
    expect(await sent(text)).toBe(minute(cal.local('Asia/Shanghai', 4, 6, 9)));
    expect(await sent(instant)).toBe(minute(cal.local('America/New_York', 4, 6, 9)));
    expect(await scan(10, 'due-scan-10')).toMatchObject({ scanned: 1, started: 1 });
    await engine.advanceTo(cal.local('UTC', 4, 12, 0));
    expect(await sent(later)).toBe(minute(cal.local('UTC', 4, 11, 9)));
    await expect(engine.client.workflow.getHandle(journeyWorkflowId('due', lastYear, String(cal.year))).describe()).rejects.toThrow();
  }, 120_000);

  it('greets yearly anniversaries of a timestamp field from any past year, 29 February on 28 February', async () => {
    await deploy(plan('anniv', [{ id: 'greet', kind: 'send', template: 'birthday', marketing: true }], {
      trigger: { kind: 'date', field: 'engagement.lastOrderAt', repeat: 'yearly', at: '10:00' },
    }));
    const cal = await calendar(engine); // a non-leap year
    const leap = await contact({ timezone: 'Europe/Paris' });
    await changeContact(leap, { 'engagement.lastOrderAt': new Date(Date.UTC(2024, 1, 29, 12)) });
    const old = await contact({ timezone: 'UTC' });
    await changeContact(old, { 'engagement.lastOrderAt': new Date(Date.UTC(1961, 1, 28, 12)) });
    const other = await contact({ timezone: 'UTC' });
    await changeContact(other, { 'engagement.lastOrderAt': new Date(Date.UTC(2020, 5, 28, 12)) });
    const r = await engine.client.workflow.execute('birthdayScan', {
      taskQueue: engine.taskQueue, workflowId: 'anniv-scan', args: [{ journeyId: 'anniv', scanAt: cal.local('UTC', 2, 27, 0, 5) }],
    });
    expect(r).toMatchObject({ scanned: 2, started: 2 });
    await engine.advanceTo(cal.local('UTC', 3, 1, 0));
    const res: JourneyResult = await engine.client.workflow.getHandle(journeyWorkflowId('anniv', leap, String(cal.year))).result();
    expect(minute(res.sends[0].at)).toBe(minute(cal.local('Europe/Paris', 2, 28, 10)));
  }, 120_000);
});

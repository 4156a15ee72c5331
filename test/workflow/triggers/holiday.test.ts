import { contact, deploy, plan, sendsOf, useEngine } from '../helpers';
import { journeyWorkflowId, type JourneyResult } from '../../../workflows/definitions';

const minute = (iso: string) => iso.slice(0, 16);

// Published dates of Chinese New Year (Hong Kong Observatory's conversion tables), independent of the
// calendar package the engine uses.
const CHINESE_NEW_YEAR: Record<number, string> = {
  2027: '2027-02-06', 2028: '2028-01-26', 2029: '2029-02-13', 2030: '2030-02-03', 2031: '2031-01-23',
  2032: '2032-02-11', 2033: '2033-01-31', 2034: '2034-02-19', 2035: '2035-02-08',
};

describe('holiday date triggers', () => {
  const engine = useEngine();

  it('greets on Chinese New Year 2027 (6 Feb) and 2028 (26 Jan) at 09:00 local time in each zone, once a year', async () => {
    await deploy(plan('cny', [{ id: 'greet', kind: 'send', template: 'birthday', marketing: true }], {
      trigger: { kind: 'date', holiday: 'chinese_new_year', at: '09:00' },
    }));
    const now = await engine.env.currentTimeMs();
    // The time-skipping server starts at today's real date and only moves forward: 2027 and 2028 while
    // they are ahead, else the next two new years of the published table (the same check).
    const years = Object.keys(CHINESE_NEW_YEAR).map(Number).filter((y) => Date.parse(`${CHINESE_NEW_YEAR[y]}T00:00:00Z`) - now > 3 * 86_400_000).slice(0, 2);
    expect(years).toHaveLength(2);
    if (now < Date.parse('2027-02-01T00:00:00Z')) expect(years).toEqual([2027, 2028]);

    const shanghai = await contact({ timezone: 'Asia/Shanghai' });
    const newYork = await contact({ timezone: 'America/New_York' });
    const london = await contact({ timezone: 'Europe/London' });
    const scan = (at: string, id: string) => engine.client.workflow.execute('birthdayScan', {
      taskQueue: engine.taskQueue, workflowId: id, args: [{ journeyId: 'cny', scanAt: at }],
    });
    for (const year of years) {
      const day = CHINESE_NEW_YEAR[year];
      const dayBefore = new Date(Date.parse(`${day}T00:05:00Z`) - 86_400_000).toISOString();
      // A month before, nobody is due; the day before, all three; a second pass starts nobody twice.
      expect(await scan(new Date(Date.parse(dayBefore) - 30 * 86_400_000).toISOString(), `cny-scan-${year}-early`)).toMatchObject({ started: 0, scanned: 0 });
      await engine.advanceTo(dayBefore);
      expect(await scan(dayBefore, `cny-scan-${year}`)).toMatchObject({ started: 3, alreadyEntered: 0 });
      expect(await scan(dayBefore, `cny-scan-${year}-again`)).toMatchObject({ started: 0, alreadyEntered: 3 });

      await engine.advanceTo(`${day}T23:00:00Z`);
      const sent = async (c: string) => {
        const r: JourneyResult = await engine.client.workflow.getHandle(journeyWorkflowId('cny', c, String(year))).result();
        return minute(r.sends[0].at);
      };
      expect(await sent(shanghai)).toBe(`${day}T01:00`); // 09:00 in Shanghai (UTC+8)
      expect(await sent(newYork)).toBe(`${day}T14:00`); // 09:00 in New York (UTC-5 in winter)
      expect(await sent(london)).toBe(`${day}T09:00`); // 09:00 in London (UTC+0 in winter)
    }
    for (const c of [shanghai, newYork, london]) expect(await sendsOf(c)).toHaveLength(2);
  }, 120_000);
});

import { compileJourney, type TemplateRef } from '../../../rules';
import { dateScanFilter, dueInstant, type DateTrigger } from '../../../activities/date-scan';

const templates: Record<string, TemplateRef> = { renewal_reminder: { id: 'renewal_reminder', marketing: true, topic: 'account' } };
const rules = { segments: {}, ruleSets: {}, attributes: { renewalDate: 'date' as const, plan: 'string' as const } };
const compile = (date: string) => compileJourney({ path: 'j.yaml', text: `
journey: j
trigger:
  date: ${date}
  when: contact.consent.email == "subscribed"
exit_when: contact.consent.email != "subscribed"
steps:
  - send: renewal_reminder
` }, { templates, rules });

/** Every document of `docs` the filter selects (the operators the scan uses: $or, $in, $gte/$lt on text and dates). */
function select(filter: Record<string, unknown>, doc: Record<string, unknown>): boolean {
  const get = (p: string) => p.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), doc);
  return Object.entries(filter).every(([k, cond]) => {
    if (k === '$or') return (cond as Record<string, unknown>[]).some((f) => select(f, doc));
    const v = get(k);
    const c = cond as { $in?: unknown[]; $gte?: unknown; $lt?: unknown };
    if (c.$in) return c.$in.includes(v);
    const same = (a: unknown) => (a instanceof Date ? v instanceof Date : typeof v === typeof a);
    return same(c.$gte) && (v as never) >= (c.$gte as never) && (v as never) < (c.$lt as never);
  });
}

describe('date triggers', () => {
  it('compile on a declared date attribute with an offset, once by default; birthday compiles as it always did', () => {
    const r = compile('{ field: attributes.renewalDate, offset: -14d, at: "09:00" }');
    expect(r.diagnostics).toEqual([]);
    expect(r.plan!.trigger).toMatchObject({ kind: 'date', field: 'attributes.renewalDate', offsetDays: -14, at: '09:00' });
    expect(r.plan!.trigger).not.toHaveProperty('repeat');
    const b = compile('{ field: birthday, at: "09:00" }');
    expect(Object.keys(b.plan!.trigger)).toEqual(['kind', 'field', 'at', 'when']);
    expect(compile('{ field: createdAt, repeat: yearly }').plan!.trigger).toMatchObject({ field: 'createdAt', repeat: 'yearly' });
    expect(compile('{ holiday: chinese_new_year, at: "09:00" }').plan!.trigger).toMatchObject({ kind: 'date', holiday: 'chinese_new_year', at: '09:00' });
  });

  it.each([
    ['{ field: attributes.plan }', 'E_BAD_DATE_FIELD', 'declared string'],
    ['{ field: attributes.renewDate }', 'E_BAD_DATE_FIELD', 'not declared'],
    ['{ field: createdAtt }', 'E_BAD_DATE_FIELD', 'did you mean "createdAt"'],
    ['{ holiday: chinese_newyear }', 'E_UNKNOWN_HOLIDAY', 'chinese_new_year'],
    ['{ holiday: christmas, field: birthday }', 'E_BAD_TRIGGER', 'not both'],
    ['{ at: "09:00" }', 'E_MISSING_KEY', 'holiday: <name>'],
    ['{ field: birthday, repeat: once }', 'E_BAD_VALUE', 'only be yearly'],
    ['{ field: createdAt, repeat: monthly }', 'E_BAD_VALUE', 'yearly (anniversaries) or once'],
    ['{ field: attributes.renewalDate, offset: -14h }', 'E_BAD_DURATION', 'number of days'],
  ])('reject %s with %s at its place', (date, code, text) => {
    const r = compile(date);
    const d = r.diagnostics.find((x) => x.code === code);
    expect(d?.message.toLowerCase()).toContain(text.toLowerCase());
    expect(d?.range.start.line).toBe(4);
  });

  const renewal: DateTrigger = { kind: 'date', field: 'attributes.renewalDate', offsetDays: -14, at: '09:00' };
  const now = Date.parse('2027-03-01T00:05:00Z');
  const lookahead = 48 * 3600_000;

  it('asks only for the renewal dates 14 days after the dates that can be due, as text or as instants', () => {
    const f = dateScanFilter(renewal, now, lookahead)!;
    // Due dates 28 Feb - 4 Mar UTC; renewal dates 14 Mar - 18 Mar.
    expect(select(f, { attributes: { renewalDate: '2027-03-15' } })).toBe(true);
    expect(select(f, { attributes: { renewalDate: '2027-03-18T10:00:00Z' } })).toBe(true);
    expect(select(f, { attributes: { renewalDate: new Date('2027-03-15T00:00:00Z') } })).toBe(true);
    expect(select(f, { attributes: { renewalDate: '2027-03-13' } })).toBe(false);
    expect(select(f, { attributes: { renewalDate: '2027-03-19' } })).toBe(false);
    expect(select(f, { attributes: { renewalDate: '2026-03-15' } })).toBe(false);
    expect(select(f, { attributes: {} })).toBe(false);
    expect(JSON.stringify(f)).not.toContain('$where');
  });

  it('is due at 09:00 local 14 days before the date, in each zone, and not when that moment has passed', () => {
    const doc = { attributes: { renewalDate: '2027-03-15' } };
    expect(new Date(dueInstant(renewal, doc, 'Asia/Shanghai', now)!).toISOString()).toBe('2027-03-01T01:00:00.000Z');
    expect(new Date(dueInstant(renewal, doc, 'America/New_York', now)!).toISOString()).toBe('2027-03-01T14:00:00.000Z');
    expect(dueInstant(renewal, doc, 'Pacific/Kiritimati', now)).toBeNull(); // 09:00 on 1 Mar there was 19:00 UTC the day before
    expect(dueInstant(renewal, { attributes: { renewalDate: 'soon' } }, 'UTC', now)).toBeNull();
  });

  it('finds yearly anniversaries in any past year, 29 February on 28 February in other years', () => {
    const yearly: DateTrigger = { kind: 'date', field: 'createdAt', repeat: 'yearly', at: '10:00' };
    const feb = Date.parse('2027-02-27T00:05:00Z');
    const f = dateScanFilter(yearly, feb, lookahead)!;
    expect(select(f, { createdAt: new Date('2019-02-28T08:00:00Z') })).toBe(true);
    expect(select(f, { createdAt: new Date('2024-02-29T08:00:00Z') })).toBe(true);
    expect(select(f, { createdAt: new Date('1950-03-01T08:00:00Z') })).toBe(true);
    expect(select(f, { createdAt: new Date('2019-06-28T08:00:00Z') })).toBe(false);
    expect(new Date(dueInstant(yearly, { createdAt: new Date('2024-02-29T08:00:00Z') }, 'UTC', feb)!).toISOString()).toBe('2027-02-28T10:00:00.000Z');
    // Not before the date itself: a date next year has its first anniversary the year after.
    expect(new Date(dueInstant(yearly, { createdAt: new Date('2027-03-05T08:00:00Z') }, 'UTC', feb)!).toISOString()).toBe('2027-03-05T10:00:00.000Z');
    expect(new Date(dueInstant(yearly, { createdAt: new Date('2028-02-28T08:00:00Z') }, 'UTC', feb)!).toISOString()).toBe('2028-02-28T10:00:00.000Z');
  });

  it('reads nobody on days no holiday is near, everybody on the days one is, due at 09:00 local on it', () => {
    const cny: DateTrigger = { kind: 'date', holiday: 'chinese_new_year', at: '09:00' };
    expect(dateScanFilter(cny, Date.parse('2027-05-01T00:05:00Z'), lookahead)).toBeNull();
    expect(dateScanFilter(cny, Date.parse('2027-02-05T00:05:00Z'), lookahead)).toEqual({});
    const t = dueInstant(cny, {}, 'Asia/Shanghai', Date.parse('2027-02-05T00:05:00Z'));
    expect(new Date(t!).toISOString()).toBe('2027-02-06T01:00:00.000Z');
    expect(new Date(dueInstant(cny, {}, 'Europe/London', Date.parse('2028-01-25T00:05:00Z'))!).toISOString()).toBe('2028-01-26T09:00:00.000Z');
  });

  it('keeps birthday on its indexed month-day keys, moved by an offset', () => {
    expect(dateScanFilter({ kind: 'date', field: 'birthday', at: '09:00' }, now, lookahead)).toEqual({ birthdayMonthDay: { $in: ['02-28', '02-29', '03-01', '03-02', '03-03', '03-04'] } });
    expect(dateScanFilter({ kind: 'date', field: 'birthday', offsetDays: -7, at: '09:00' }, now, lookahead)).toEqual({ birthdayMonthDay: { $in: ['03-07', '03-08', '03-09', '03-10', '03-11'] } });
  });
});

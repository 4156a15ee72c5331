import { classify, compileExpression, evaluate, evaluateBool, type ContactView, type RuleSetPlan } from '../../../rules';

const NOW = new Date('2027-02-28T01:30:00Z'); // 09:30 in Shanghai, 2027 is not a leap year
function contact(over: Partial<ContactView> = {}): ContactView {
  return {
    id: 'c1', externalId: null, emailDomain: 'example.com', emailStatus: 'verified', emailVerifiedAt: null,
    emailRole: false, emailDisposable: false, firstName: 'Ana', lastName: null, locale: 'zh-CN', timezone: 'Asia/Shanghai',
    birthdayMonth: 2, birthdayDay: 29, tags: ['vip'], consent: { email: 'subscribed', sms: 'unknown', phone: 'unknown' },
    source: 'signup_form', channel: null, lifecycle: null, importance: null, rfm: null, businessType: null, rfmScore: { recency: null, frequency: null, monetary: null },
    engagement: { opens: 2, clicks: 0, orders: 1, revenue: 120.5, lastOpenAt: new Date('2027-02-20T00:00:00Z'), lastClickAt: null, lastOrderAt: null },
    lastActivityAt: null, createdAt: new Date('2026-01-01T00:00:00Z'), attributes: { plan: 'pro' }, owner: null, surveys: {}, ...over,
  };
}
const b = (over: Partial<ContactView> = {}) => ({ contact: contact(over), now: NOW });

describe('the run-time evaluator', () => {
  it('computes daysSince from the bound now, never the wall clock', () => {
    expect(evaluate('daysSince(contact.engagement.lastOpenAt)', b())).toBe(8);
    expect(evaluate('daysSince(contact.engagement.lastOpenAt)', { contact: contact(), now: new Date('2027-03-20T00:00:00Z') })).toBe(28);
  });

  it('treats a missing timestamp as long ago in daysSince, so never-active contacts count as inactive', () => {
    expect(evaluateBool('daysSince(contact.lastActivityAt) > 90', b())).toBe(true);
    expect(evaluateBool('daysSince(contact.lastActivityAt) < 7', b())).toBe(false);
  });

  it('counts a comparison with a missing timestamp as not met, whichever way it is negated', () => {
    expect(evaluateBool('contact.engagement.lastClickAt < ago(days(3))', b())).toBe(false);
    expect(evaluateBool('!(contact.engagement.lastClickAt < ago(days(3)))', b())).toBe(false);
    expect(evaluateBool('contact.engagement.lastClickAt == null || contact.engagement.lastClickAt < ago(days(3))', b())).toBe(true);
  });

  it('answers tag membership three ways', () => {
    for (const e of ['hasTag(contact, "vip")', '"vip" in contact.tags', 'contact.tags.exists(t, t == "vip")', 'hasAnyTag(contact, ["x", "vip"])']) {
      expect(evaluateBool(e, b())).toBe(true);
    }
    expect(evaluateBool('hasTag(contact, "cold")', b())).toBe(false);
  });

  it('reads local date parts in the contact time zone', () => {
    expect(evaluate('localHour(contact)', b())).toBe(9);
    expect(evaluate('localDate(contact)', b())).toBe('2027-02-28');
    expect(evaluate('localHour(contact)', b({ timezone: null }))).toBe(1);
    expect(evaluate('localHour(contact)', { ...b({ timezone: null }), defaultTimezone: 'Europe/Paris' })).toBe(2);
  });

  it('celebrates a 29 February birthday on 28 February in a non-leap year', () => {
    expect(evaluateBool('isBirthdayToday(contact)', b())).toBe(true);
    expect(evaluateBool('isBirthdayToday(contact)', { contact: contact(), now: new Date('2028-02-28T04:00:00Z') })).toBe(false);
    expect(evaluateBool('isBirthdayToday(contact)', { contact: contact(), now: new Date('2028-02-29T04:00:00Z') })).toBe(true);
  });

  it('binds event and journey, with journey params', () => {
    const bindings = {
      ...b(), event: { name: 'email.clicked', at: NOW, data: { url: 'https://x.test/a', templateId: 'welcome' } },
      journey: { id: 'welcome', version: 3, startedAt: new Date('2027-02-27T00:00:00Z'), params: { inactive_days: 90 } },
    };
    expect(evaluateBool('event.data.templateId == "welcome" && journey.version == 3', bindings)).toBe(true);
    expect(evaluate('journey.params.inactive_days', bindings)).toBe(90);
    expect(evaluateBool('contact.engagement.lastOpenAt < journey.startedAt', bindings)).toBe(true);
  });

  it('returns plain numbers and caches compiled expressions', () => {
    expect(evaluate('contact.engagement.opens + 1', b())).toBe(3);
    expect(compileExpression('1 + 1')).toBe(compileExpression('1 + 1'));
  });

  it('classifies with the first matching rule, then otherwise', () => {
    const rs: RuleSetPlan = {
      name: 'importance', field: 'importance', otherwise: 'normal',
      rules: [
        { value: 'vip', when: { source: 'contact.engagement.revenue >= 1000.0' }, reason: 'big spender' },
        { value: 'potential', when: { source: 'contact.engagement.orders >= 1' }, reason: 'has ordered' },
      ],
    };
    expect(classify(rs, b())).toEqual({ value: 'potential', reason: 'has ordered', rule: 1 });
    expect(classify(rs, b({ engagement: { ...contact().engagement, orders: 0 } }))).toEqual({ value: 'normal', reason: 'no rule matched', rule: 'otherwise' });
    expect(classify({ ...rs, otherwise: null }, b({ engagement: { ...contact().engagement, orders: 0 } }))).toBeNull();
  });
});

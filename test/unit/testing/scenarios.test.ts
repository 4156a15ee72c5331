import { parseScenarioFile, ScenarioFormatError } from '../../../testing/scenarios';
import { fieldMatches, linksIn, msUntilNext, nextHolidayInstant } from '../../../testing/scenario-runner';

const good = `journey: welcome
scenarios:
  - name: a subscriber gets the welcome email
    contact: { email: ana@example.com, consent: { email: subscribed } }
    do:
      - event: contact.created
      - expect_email: { template: welcome, subject: Ana }
      - advance: 2d
      - event: { name: order.completed, data: { amount: 30 } }
      - expect_run: { ended: converted }
`;

describe('scenario files', () => {
  it('parse into typed actions with their line numbers', () => {
    const f = parseScenarioFile(good, 'welcome.scenarios.yaml');
    expect(f.journey).toBe('welcome');
    const s = f.scenarios[0];
    expect(s.contact.email).toBe('ana@example.com');
    expect(s.actions.map((a) => a.kind)).toEqual(['event', 'expect_email', 'advance', 'event', 'expect_run']);
    expect(s.actions[2]).toMatchObject({ kind: 'advance', ms: 2 * 86_400_000, line: 8 });
    expect(s.actions[3]).toMatchObject({ kind: 'event', name: 'order.completed', data: { amount: 30 } });
  });

  it('name the file, line and column of an unknown step', () => {
    const bad = good.replace('- advance: 2d', '- advanse: 2d');
    expect(() => parseScenarioFile(bad, 'w.yaml')).toThrow(ScenarioFormatError);
    expect(() => parseScenarioFile(bad, 'w.yaml')).toThrow(/^w\.yaml:8:9: unknown step "advanse"/);
  });

  it('reject a duration a marketer mistyped, at its place', () => {
    const bad = good.replace('advance: 2d', 'advance: two days');
    expect(() => parseScenarioFile(bad, 'w.yaml')).toThrow(/^w\.yaml:8:18: "two days" is not a duration/);
  });

  it('parse the person\'s steps: click and open by a person, a scanner or a proxy; confirm, verify, unsubscribe, preferences', () => {
    const steps = `      - click: welcome
      - click: { template: winback, by: scanner }
      - open: { template: welcome, by: proxy }
      - confirm: double_optin
      - verify: {}
      - unsubscribe: winback
      - preferences: { keep: [news], pause: 30 }
`;
    const f = parseScenarioFile(good.replace('      - advance: 2d\n', steps), 'w.yaml');
    expect(f.scenarios[0].actions.slice(2, 9)).toMatchObject([
      { kind: 'click', template: 'welcome', by: 'person' },
      { kind: 'click', template: 'winback', by: 'scanner' },
      { kind: 'open', template: 'welcome', by: 'proxy' },
      { kind: 'confirm', template: 'double_optin' },
      { kind: 'verify', template: undefined },
      { kind: 'unsubscribe', template: 'winback' },
      { kind: 'preferences', keep: ['news'], pauseDays: 30, unsubscribeAll: false },
    ]);
    expect(() => parseScenarioFile(good.replace('      - advance: 2d\n', '      - click: { template: w, by: robot }\n'), 'w.yaml')).toThrow(/^w\.yaml:8:16: by must be one of person, scanner, proxy/);
    expect(() => parseScenarioFile(good.replace('      - advance: 2d\n', '      - preferences: { keep: [news], pause: 45 }\n'), 'w.yaml')).toThrow(/pause is 30 or 90/);
  });

  it('skip to a holiday: the next one after now, at a UTC time, moved by days', () => {
    const f = parseScenarioFile(good.replace('      - advance: 2d\n', '      - advance_to: { holiday: chinese_new_year, offset: -1d, at: "00:05" }\n'), 'w.yaml');
    expect(f.scenarios[0].actions[2]).toMatchObject({ kind: 'advance_to', holiday: 'chinese_new_year', offsetDays: -1, at: '00:05' });
    expect(new Date(nextHolidayInstant(Date.parse('2026-11-28T10:00:00Z'), 'chinese_new_year', -1, '00:05')).toISOString()).toBe('2027-02-05T00:05:00.000Z');
    expect(new Date(nextHolidayInstant(Date.parse('2027-02-05T00:05:00Z'), 'chinese_new_year', -1, '00:05')).toISOString()).toBe('2028-01-25T00:05:00.000Z');
    expect(() => parseScenarioFile(good.replace('      - advance: 2d\n', '      - advance_to: { holiday: new_years }\n'), 'w.yaml')).toThrow(/^w\.yaml:8:\d+: "new_years" is not a holiday/);
  });

  it('find the public-endpoint links of one kind in an email, and nothing else', () => {
    const html = '<a href="http://h:1/r/abc.def?x=1&amp;y=2">go</a><a href="http://h:1/c/tok">confirm</a><img src="http://h:1/o/px.gif"><a href="https://elsewhere/r/x">no</a>';
    expect(linksIn(html, 'http://h:1', 'r')).toEqual(['http://h:1/r/abc.def?x=1&y=2']);
    expect(linksIn(html, 'http://h:1', 'c')).toEqual(['http://h:1/c/tok']);
    expect(linksIn(html, 'http://h:1', 'o')).toEqual(['http://h:1/o/px.gif']);
    expect(linksIn(html, 'http://h:1', 'v')).toEqual([]);
  });

  it('reject a run outcome that does not exist', () => {
    const bad = good.replace('ended: converted', 'ended: finished');
    expect(() => parseScenarioFile(bad, 'w.yaml')).toThrow(/ended must be one of completed, exited, converted/);
  });
});

describe('scenario expectations', () => {
  it('read a list as "contains all of these" and an empty list as "is empty"', () => {
    expect(fieldMatches(['a', 'b'], ['a'])).toBe(true);
    expect(fieldMatches(['b'], ['a'])).toBe(false);
    expect(fieldMatches([], [])).toBe(true);
    expect(fieldMatches(['birthday_offer'], [])).toBe(false);
    expect(fieldMatches('active', 'active')).toBe(true);
    expect(fieldMatches(null, null)).toBe(true);
  });

  it('start each scenario at the next 10:00 UTC at least a minute away', () => {
    expect(msUntilNext(new Date('2026-03-01T09:00:00Z'), '10:00')).toBe(3_600_000);
    expect(msUntilNext(new Date('2026-03-01T09:59:30Z'), '10:00')).toBe(86_400_000 + 30_000);
    expect(msUntilNext(new Date('2026-03-01T11:00:00Z'), '10:00')).toBe(23 * 3_600_000);
  });
});

/**
 * Expressions cannot freeze or crash the server: `matches` runs on RE2 (linear time), oversized
 * expressions are refused with a diagnostic instead of overflowing the stack, and no oversized
 * scalar reaches Intl.
 */
import { compileProject, evaluate, evaluateBool, toMongoFilter, type ContactView } from '../../../rules';
import { isTimeZone } from '../../../rules/duration';

const now = new Date('2026-06-01T10:00:00Z');
const contact = (over: Partial<ContactView> = {}) => ({ tags: [], consent: { email: 'subscribed' }, engagement: {}, ...over }) as unknown as ContactView;

function journeyWith(when: string, extra = ''): { path: string; text: string } {
  return { path: 'j.yaml', text: `journey: j\ntrigger:\n  event: contact.created\n  when: ${when}\n${extra}steps:\n  - send: verify_email\n` };
}
const templates = { verify_email: { id: 'verify_email', marketing: false, topic: null } };

describe('expression safety', () => {
  it('runs matches() in linear time with RE2 semantics', () => {
    const evil = 'contact.firstName.matches("^(a+)+$")';
    for (const n of [29, 10_000, 100_000]) {
      const t0 = process.hrtime.bigint();
      expect(evaluateBool(evil, { contact: contact({ firstName: `${'a'.repeat(n)}!` }), now })).toBe(false);
      console.log(`matches("^(a+)+$") on ${n + 1} characters: ${Number(process.hrtime.bigint() - t0) / 1e6} ms (JavaScript's RegExp took 17.9 s on 29)`);
    }
    expect(evaluateBool(evil, { contact: contact({ firstName: 'aaaa' }), now })).toBe(true);
    // Unanchored search, as CEL specifies; the function form works too.
    expect(evaluate('"hello world".matches("o w")', { contact: contact(), now })).toBe(true);
    expect(evaluate('matches("hello", "^h.l+o$")', { contact: contact(), now })).toBe(true);
    expect(evaluate('"Hello".matches("^hello$")', { contact: contact(), now })).toBe(false);
    expect(evaluate('"Hello".matches("(?i)^hello$")', { contact: contact(), now })).toBe(true);
    // RE2 refuses backreferences at run time too (an API expression is not compiled by validate).
    expect(() => evaluate('"aa".matches("(a)\\\\1")', { contact: contact(), now })).toThrow();
    expect(evaluateBool('"aa".matches("(a)\\\\1")', { contact: contact(), now })).toBe(false);
  });

  it('refuses ~8,000 + terms with a diagnostic in validate, and without a stack overflow anywhere else', () => {
    const huge = `contact.engagement.opens ${'+ 1 '.repeat(8000)}> 3`;
    const r = compileProject([journeyWith(`contact.consent.email == "subscribed" && ${huge}`)], { templates });
    expect(r.diagnostics.map((d) => d.code)).toContain('E_CEL_TOO_COMPLEX');
    expect(() => evaluate(huge, { contact: contact(), now })).toThrow(/limit|Exceeded/);
    expect(evaluateBool(huge, { contact: contact(), now })).toBe(false);
    let pushdownError: unknown = null;
    try {
      toMongoFilter(huge, { now });
    } catch (err) {
      pushdownError = err;
    }
    expect(pushdownError).not.toBeInstanceOf(RangeError);
    // Just under the node limit still works (the limit is not a stack limit in disguise).
    const big = `contact.engagement.opens ${'+ 1 '.repeat(490)}> 3`;
    expect(evaluate(big, { contact: contact({ engagement: { opens: 0 } } as never), now })).toBe(true);
  });

  it('never hands a long scalar to Intl: a 500 KB timezone is refused at once', () => {
    const zone = `Europe/${'Paris'.repeat(100_000)}`;
    const t0 = process.hrtime.bigint();
    expect(isTimeZone(zone)).toBe(false);
    const r = compileProject([{ path: 'z.yaml', text: `journey: z\ntrigger:\n  event: contact.created\nsettings:\n  timezone: ${zone}\nsteps:\n  - send: verify_email\n` }], { templates });
    expect(r.diagnostics.map((d) => d.code)).toContain('E_BAD_TIMEZONE');
    expect(r.diagnostics.find((d) => d.code === 'E_BAD_TIMEZONE')!.message.length).toBeLessThan(200);
    expect(evaluate('localHour(contact)', { contact: contact({ timezone: zone }), now, defaultTimezone: zone })).toBe(10);
    console.log(`500 KB timezone: validated and evaluated in ${Number(process.hrtime.bigint() - t0) / 1e6} ms (was 18 s)`);
  });
});

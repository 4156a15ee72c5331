/** Domain labels of email addresses follow RFC 1035/1123 (LDH) on their ASCII form, IDN through UTS #46. */
import { parseEmail } from '../../../lib/email-address';

describe('email domain labels', () => {
  it.each([
    ['a@exa_mple.com', /"exa_mple" contains "_"/],
    ['a@-example.com', /starts or ends with "-"/],
    ['a@example-.com', /starts or ends with "-"/],
    ['a@sub.-x.com', /starts or ends with "-"/],
    [`a@${'l'.repeat(64)}.com`, /longer than 63/],
    ['a@ab--cd.com', /reserved for IDN/],
    ['a@xn--zz.com', /not a valid host name/],
    ['a@example.123', /not a valid host name/],
    ['a@exa mple.com', /.*/],
    ['a@exam!ple.com', /.*/],
    ['a@example..com', /.*/],
  ])('refuses %s', (address, why) => {
    const r = parseEmail(address);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.code).toMatch(/^E_EMAIL_(DOMAIN|SYNTAX)$/);
      expect(r.message).toMatch(why);
    }
  });

  it.each([
    ['a@example.com', 'example.com'],
    ['a@sub-1.example.co.uk', 'sub-1.example.co.uk'],
    ['a@münchen.de', 'xn--mnchen-3ya.de'],
    ['a@xn--mnchen-3ya.de', 'xn--mnchen-3ya.de'],
    ['a@例え.テスト', 'xn--r8jz45g.xn--zckzah'],
    ['a@EXAMPLE.COM', 'example.com'],
    [`a@${'l'.repeat(63)}.com`, `${'l'.repeat(63)}.com`],
    ['a@1.example.com', '1.example.com'],
  ])('accepts %s (ASCII domain %s)', (address, domain) => {
    const r = parseEmail(address);
    expect(r.ok && r.email.domain).toBe(domain);
  });
});

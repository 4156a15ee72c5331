import fs from 'node:fs';
import path from 'node:path';
import { compileJourney, compileProject, sha256Hex, type SourceFile, type TemplateRef } from '../../../rules';
import { readTemplateCatalog } from '../../../mail/template-catalog';

const root = path.join(__dirname, '..', '..', '..');
const templates: Record<string, TemplateRef> = {
  welcome: { id: 'welcome', marketing: true, topic: 'news' }, welcome_tips: { id: 'welcome_tips', marketing: true, topic: 'news' },
  verify_email: { id: 'verify_email', marketing: false },
};
const journey = (text: string): SourceFile => ({ path: 'j.yaml', text });

describe('compiling journeys', () => {
  it('derives readable, unique step ids and flattens branches so they rejoin the next step', () => {
    const { plan, diagnostics } = compileJourney(journey(`
journey: demo
trigger: { event: contact.created, when: contact.consent.email == "subscribed" }
exit_when: contact.consent.email != "subscribed"
steps:
  - send: welcome
  - wait: 36h
  - wait_for: { event: email.clicked, timeout: 2d }
    on_timeout:
      - if: '!hasTag(contact, "vip")'
        then:
          - send: welcome_tips
  - wait: 36h
  - id: wait_2d
    wait: 2d
  - wait: 2d
  - update: { add_tags: [onboarded] }
`), { templates });
    expect(diagnostics).toEqual([]);
    expect(plan).not.toBeNull();
    expect(Object.keys(plan!.steps)).toEqual([
      'send_welcome', 'wait_1d12h', 'wait_for_email_clicked', 'if_not_tag_vip', 'send_welcome_tips', 'wait_1d12h_2', 'wait_2d', 'wait_2d_2', 'tag_onboarded',
    ]);
    const s = plan!.steps;
    expect(s.wait_for_email_clicked).toMatchObject({ kind: 'wait_for', onTimeout: 'if_not_tag_vip', next: 'wait_1d12h_2', timeoutMs: 172_800_000 });
    expect(s.if_not_tag_vip).toMatchObject({ then: 'send_welcome_tips', else: null, next: 'wait_1d12h_2' });
    expect(s.send_welcome_tips.next).toBe('wait_1d12h_2');
    expect(s.tag_onboarded.next).toBeNull();
    expect(plan!.start).toBe('send_welcome');
  });

  it('produces a JSON-serialisable plan with a deterministic content hash', () => {
    const text = 'journey: t\ntrigger: { event: contact.email_changed }\nsteps:\n  - send: verify_email\n';
    const a = compileJourney(journey(text), { templates }).plan!;
    const b = compileJourney(journey(text), { templates }).plan!;
    expect(JSON.parse(JSON.stringify(a))).toEqual(a);
    expect(a.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(b.hash).toBe(a.hash);
    const c = compileJourney(journey(text.replace('verify_email', 'welcome').replace('contact.email_changed }', 'contact.email_changed, when: isSubscribed(contact) }')), { templates }).plan!;
    expect(c.hash).not.toBe(a.hash);
    expect(a.planFormat).toBe(1);
    expect(a.templates).toEqual({ verify_email: { id: 'verify_email', marketing: false } });
  });

  it('reports every problem of a file at once', () => {
    const { plan, diagnostics } = compileJourney(journey(`
journey: bad
trigger: { event: contact.created }
steps:
  - send: nope
  - wait: 3 days
  - wait_for: { event: email.clicked }
`), { templates });
    expect(plan).toBeNull();
    expect(diagnostics.map((d) => d.code)).toEqual(['E_UNKNOWN_TEMPLATE', 'E_BAD_DURATION', 'E_WAIT_FOR_NO_TIMEOUT']);
  });

  it('compiles the shipped journeys and rules clean, with segments pushed down', () => {
    const dir = path.join(root, 'journeys');
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.includes('.scenarios.'))
      .map((f) => ({ path: `journeys/${f}`, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
    const r = compileProject(files, { templates: readTemplateCatalog(path.join(root, 'templates')) });
    expect(r.diagnostics).toEqual([]);
    expect(Object.keys(r.plans).sort()).toEqual(['birthday', 'holiday_greeting', 'newsletter', 'order_survey', 'post_purchase', 'reengagement', 'renewal_reminder', 'service_due', 'survey_followup', 'verification', 'welcome']);
    expect(r.rules.attributes).toMatchObject({ renewalDate: 'date' });
    expect(r.plans.holiday_greeting.trigger).toMatchObject({ kind: 'date', holiday: 'chinese_new_year', at: '09:00' });
    expect(r.plans.service_due.trigger).toMatchObject({ kind: 'date', field: 'attributes.serviceDueDate', offsetDays: -14, at: '09:00' });
    expect(r.plans.renewal_reminder.steps.wait_two_weeks_before).toMatchObject({ kind: 'wait', mode: 'until_field', field: 'attributes.renewalDate', offsetDays: -14, at: '09:00' });
    expect(r.plans.newsletter.steps.wait_best_hour).toMatchObject({ kind: 'wait', mode: 'best_time', withinMs: 86_400_000, at: '10:00' });
    expect(r.plans.post_purchase.trigger).toEqual({ kind: 'event', event: 'order.completed', data: { orderId: 'string', amount: 'number' } });
    // The review event carries the order id in data.orderId: the dispatcher finds the order's run by id.
    expect(r.plans.post_purchase.entryKey).toMatchObject({ expr: { source: 'event.data.orderId' }, byEvent: { 'review.submitted': 'orderId' } });
    expect(Object.keys(r.rules.segments).sort()).toEqual(['has_birthday', 'inactive_90d', 'new_subscribers', 'subscribed', 'unverified_180d', 'vip']);
    for (const seg of Object.values(r.rules.segments)) expect(seg.filter).not.toBeNull();
    expect(r.plans.verification.extraTriggers).toEqual([{ kind: 'event', event: 'contact.email_changed' }]);
    expect(r.plans.reengagement.trigger).toMatchObject({ kind: 'schedule', audience: { expr: { source: expect.stringContaining('> 90') } } });
  });
});

describe('sha256', () => {
  it('matches the FIPS 180-4 examples', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')).toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
    expect(sha256Hex('a'.repeat(1000))).toBe('41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3');
  });
});

/**
 * The gate reads what the preference centre stored: real database, preferences changed only through the
 * real preference form (the public endpoints' fastify app), decisions taken by the real gate activity.
 */
import { dataLayerContactStore } from '../../../activities/contact-store';
import { createGateActivities, preferenceDecision } from '../../../activities/gate';
import type { GateInput } from '../../../activities/types';
import { initDatabase } from '../../../data/db';
import { getContact, upsertContact } from '../../../data/contacts';
import { readTemplateCatalog } from '../../../mail/template-catalog';
import { useTestDatabase } from '../../helpers/db';
import { usePreferenceForm } from '../../helpers/preference-form';

const DAY = 86400_000;
let seq = 0;

async function subscriber(): Promise<string> {
  const r = await upsertContact({ email: `pref${Date.now().toString(36)}${seq++}@example.com`, timezone: 'UTC', consent: { email: 'subscribed' } });
  return String(r.contact._id);
}

describe('the gate honours the preference centre', () => {
  useTestDatabase('gate_prefs');
  const form = usePreferenceForm();
  const gate = createGateActivities({ contacts: dataLayerContactStore() });
  const input = (contactId: string, templateId: string, marketing: boolean, now: Date, topic?: string | null): GateInput => ({
    contactId, journeyId: 'j', stepId: 's', templateId, marketing, key: `k-${contactId}-${templateId}`, settings: { defaultTimezone: 'UTC' },
    now: now.toISOString(), ...(topic !== undefined ? { topic } : {}),
  });

  beforeAll(() => initDatabase());

  it('skips an email of a topic the contact turned off (topic_opt_out) and still sends the topics they kept', async () => {
    const c = await subscriber();
    const now = new Date();
    expect(await form.submit(c, { keep: ['news'] }, now)).toBe(200);
    expect((await getContact(c))?.attributes.emailTopics).toEqual({ news: true, offers: false });
    // topic pinned in the plan
    expect(await gate.gateSend(input(c, 'welcome_offer', true, now, 'offers'))).toEqual({ outcome: 'skip', reason: 'topic_opt_out' });
    expect(await gate.gateSend(input(c, 'welcome', true, now, 'news'))).toEqual({ outcome: 'send' });
    // a plan deployed before templates carried topics: the gate reads the template's front matter
    expect(await gate.gateSend(input(c, 'birthday', true, now))).toEqual({ outcome: 'skip', reason: 'topic_opt_out' });
    expect(await gate.gateSend(input(c, 'winback', true, now))).toEqual({ outcome: 'send' });
  });

  it('defers every marketing email until a 30-day pause ends (paused), but not a transactional one, and sends after it', async () => {
    const c = await subscriber();
    const at = new Date();
    expect(await form.submit(c, { keep: ['news', 'offers'], pauseDays: 30 }, at)).toBe(200);
    const end = new Date(at.getTime() + 30 * DAY).toISOString();
    expect(await gate.gateSend(input(c, 'welcome', true, new Date(at.getTime() + DAY), 'news'))).toEqual({ outcome: 'defer', until: end, reason: 'paused' });
    expect(await gate.gateSend(input(c, 'welcome_offer', true, new Date(at.getTime() + 29 * DAY), 'offers'))).toEqual({ outcome: 'defer', until: end, reason: 'paused' });
    expect(await gate.gateSend(input(c, 'verify_email', false, new Date(at.getTime() + DAY)))).toEqual({ outcome: 'send' });
    expect(await gate.gateSend(input(c, 'welcome', true, new Date(at.getTime() + 30 * DAY + 1000), 'news'))).toEqual({ outcome: 'send' });
  });

  it('lifts a pause when the contact saves the form again without one', async () => {
    const c = await subscriber();
    const at = new Date();
    await form.submit(c, { keep: ['news', 'offers'], pauseDays: 90 }, at);
    expect((await gate.gateSend(input(c, 'welcome', true, at, 'news'))).outcome).toBe('defer');
    await form.submit(c, { keep: ['news', 'offers'] }, new Date(at.getTime() + 1000));
    expect(await gate.gateSend(input(c, 'welcome', true, new Date(at.getTime() + 2000), 'news'))).toEqual({ outcome: 'send' });
  });

  it('every shipped marketing template declares a topic the preference form offers', () => {
    const marketing = Object.values(readTemplateCatalog()).filter((t) => t.marketing);
    expect(marketing.length).toBeGreaterThan(0);
    for (const t of marketing) expect(['news', 'offers']).toContain(t.topic);
  });
});

describe('preferenceDecision', () => {
  const now = new Date('2030-01-01T10:00:00Z');
  it('treats topics missing from the map as on, and ignores pauses that ended or are unreadable', () => {
    expect(preferenceDecision({ emailTopics: { offers: false } }, 'news', now)).toBeNull();
    expect(preferenceDecision({}, 'news', now)).toBeNull();
    expect(preferenceDecision({ emailPausedUntil: '2029-12-31T00:00:00Z' }, 'news', now)).toBeNull();
    expect(preferenceDecision({ emailPausedUntil: 'not a date' }, 'news', now)).toBeNull();
    expect(preferenceDecision({ emailTopics: { news: false }, emailPausedUntil: '2030-02-01T00:00:00Z' }, 'news', now)).toEqual({ outcome: 'skip', reason: 'topic_opt_out' });
  });
});

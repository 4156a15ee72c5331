/**
 * What the dispatcher assumes about events (data/contact-events.ts `contactFieldsChangedBy`, decision
 * 43) checked against what recording them really does: each event with declared effects is ingested
 * through the one door (with the shipped classification rule sets, as `sojourn serve` runs it) and every
 * field of the `contact` view that changed must be among the declared ones. Were one missing, a run
 * whose exit_when reads it would not be told about the event.
 */
import path from 'node:path';
import mongoose from 'mongoose';
import { initDatabase } from '../../../data/db';
import { createContacts } from '../../../data/contacts';
import { contactFieldsChangedBy } from '../../../data/contact-events';
import { contactRuleSets } from '../../../data/classify';
import { toContactView } from '../../../data/contact-view';
import { createIngest, RECLASSIFY_ON } from '../../../engine/ingest';
import { loadProject } from '../../../engine/project';
import { uniqueDatabaseUri } from '../../helpers/db';
import { TEST_KEYS } from './setup';

const contacts = createContacts(TEST_KEYS);
const root = path.resolve(__dirname, '../../..');

beforeAll(async () => {
  await mongoose.connect(uniqueDatabaseUri('event_effects'), { serverSelectionTimeoutMS: 10_000 });
  await initDatabase();
}, 60_000);
afterAll(async () => {
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
});

const EVENTS: { name: string; data?: Record<string, unknown> }[] = [
  { name: 'contact.created' }, { name: 'contact.login' }, { name: 'email.opened' }, { name: 'email.clicked' },
  { name: 'order.completed', data: { amount: 420 } }, { name: 'email.unsubscribed' }, { name: 'email.complained' },
  { name: 'email.bounced', data: { type: 'hard' } },
];

describe('the contact fields an event changes', () => {
  const ruleSets = contactRuleSets(Object.values(loadProject([path.join(root, 'journeys')], path.join(root, 'templates')).result.rules.ruleSets));
  const ingest = createIngest({ dispatcher: null, contacts, classify: { ruleSets } });

  it('covers every event with declared effects, and the reclassifying ones name the classification', () => {
    expect(ruleSets.length).toBeGreaterThan(0);
    for (const e of EVENTS) expect(contactFieldsChangedBy(e.name)).not.toBeNull();
    for (const name of RECLASSIFY_ON) expect(contactFieldsChangedBy(name)).toEqual(expect.arrayContaining(['importance', 'lifecycle', 'rfm', 'businessType', 'rfmScore']));
    expect(contactFieldsChangedBy('cart.viewed')).toBeNull();
  });

  it.each(EVENTS)('$name changes only the fields it declares', async ({ name, data }) => {
    const { contact } = await contacts.upsertContact({ email: `effects-${name}@example.com`, consent: { email: 'subscribed' } });
    const id = String(contact._id);
    const before = toContactView((await contacts.getContact(id))!);
    await ingest.ingest({ contactId: id, name, data: data ?? {} });
    const after = toContactView((await contacts.getContact(id))!);
    const changed = Object.keys(after).filter((k) => JSON.stringify(after[k as keyof typeof after]) !== JSON.stringify(before[k as keyof typeof before]));
    expect(changed.length).toBeGreaterThan(0);
    const declared = contactFieldsChangedBy(name)!;
    expect(changed.filter((k) => !declared.includes(k))).toEqual([]);
  });
});

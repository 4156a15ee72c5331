/**
 * Contacts are found by address and external id through `_id`-keyed pointers (data/contact-keys.ts):
 * a sign-up of a known person reads by `_id` only, each read an index search on the local database;
 * pointers follow address changes and erasure, are repaired after a crash between the two writes,
 * are written by the importer and backfilled at start-up for contacts stored before they existed.
 */
import { Readable } from 'node:stream';
import mongoose from 'mongoose';
import type { CommandStartedEvent } from 'mongodb';
import { initDatabase, migrateKeyedLayouts } from '../../../data/db';
import { createContacts } from '../../../data/contacts';
import { ContactKeyModel } from '../../../data/contact-keys';
import { ContactModel } from '../../../data/contact-model';
import { importContacts } from '../../../data/import';
import { INDEX_SEARCH, uniqueDatabaseUri } from '../../helpers/db';
import { TEST_KEYS } from './setup';

const contacts = createContacts(TEST_KEYS);
let recording: CommandStartedEvent[] | null = null;

beforeAll(async () => {
  await mongoose.connect(uniqueDatabaseUri('contact_keys'), { serverSelectionTimeoutMS: 10_000, monitorCommands: true });
  mongoose.connection.getClient().on('commandStarted', (e: CommandStartedEvent) => recording?.push(e));
  await initDatabase();
}, 60_000);
afterAll(async () => {
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
});

describe('contacts by key', () => {
  it('finds a known person for a repeated sign-up with `_id` reads only, each from an index', async () => {
    const first = await contacts.upsertContact({ email: 'Keyed.Person@Example.com', externalId: 'crm-1', consent: { email: 'subscribed' } });
    const seen: CommandStartedEvent[] = [];
    recording = seen;
    const again = await contacts.upsertContact({ email: 'keyed.person@example.com', externalId: 'crm-1', consent: { email: 'subscribed' } });
    recording = null;
    expect(again).toMatchObject({ created: false, changed: false });
    expect(String(again.contact._id)).toBe(String(first.contact._id));
    const finds = seen.filter((e) => e.commandName === 'find');
    expect(finds.length).toBeGreaterThan(0);
    expect(seen.filter((e) => e.commandName !== 'find').map((e) => e.commandName)).toEqual([]);
    for (const e of finds) {
      const { find, filter } = e.command as { find: string; filter: Record<string, unknown> };
      expect({ find, keys: Object.keys(filter) }).toEqual({ find, keys: ['_id'] });
      const plan = await mongoose.connection.db!.command({ explain: { find, filter }, verbosity: 'queryPlanner' });
      expect(JSON.stringify(plan.queryPlanner)).toMatch(INDEX_SEARCH);
    }
  }, 30_000);

  it('follows an address change and forgets an erased contact', async () => {
    const r = await contacts.upsertContact({ email: 'old.address@example.com', externalId: 'crm-2' });
    const id = String(r.contact._id);
    const moved = await contacts.upsertContact({ email: 'new.address@example.com', externalId: 'crm-2' });
    expect(String(moved.contact._id)).toBe(id);
    expect(await contacts.findByEmail('old.address@example.com')).toBeNull();
    expect(String((await contacts.findByEmail('NEW.address@example.com'))?._id)).toBe(id);
    // The old address is free for someone else, who gets their own contact.
    const other = await contacts.upsertContact({ email: 'old.address@example.com' });
    expect(other.created).toBe(true);
    expect(String((await contacts.findByEmail('old.address@example.com'))?._id)).toBe(String(other.contact._id));

    await contacts.eraseContact(id);
    expect(await contacts.findByEmail('new.address@example.com')).toBeNull();
    expect(await ContactKeyModel.collection.countDocuments({ c: r.contact._id })).toBe(0);
  }, 30_000);

  it('repairs a pointer lost between the contact write and its own (a crash), merging instead of duplicating', async () => {
    const r = await contacts.upsertContact({ email: 'crashed@example.com', firstName: 'Before' });
    // The crash window: the contact is stored, its pointer is not.
    await ContactKeyModel.collection.deleteOne({ _id: 'e:crashed@example.com' } as never);
    expect(await contacts.findByEmail('crashed@example.com')).toBeNull();
    const again = await contacts.upsertContact({ email: 'crashed@example.com', firstName: 'After' });
    expect(again).toMatchObject({ created: false, changed: true });
    expect(String(again.contact._id)).toBe(String(r.contact._id));
    expect(await ContactModel.collection.countDocuments({ emailKey: 'crashed@example.com' })).toBe(1);
    expect(String((await contacts.findByEmail('crashed@example.com'))?._id)).toBe(String(r.contact._id));
  }, 30_000);

  it('gives imported contacts pointers, and backfills contacts stored before pointers existed', async () => {
    const csv = 'email,firstName\nimported.one@example.com,One\nimported.two@example.com,Two\n';
    const summary = await importContacts(Readable.from([csv]), contacts, {});
    expect(summary.created).toBe(2);
    expect((await contacts.findByEmail('imported.two@example.com'))?.firstName).toBe('Two');

    // A database of the earlier layout: contacts without pointers, no migration marker.
    await ContactKeyModel.collection.deleteMany({});
    await mongoose.connection.collection('migrations').deleteOne({ _id: 'contact_keys_v1' } as never);
    expect(await contacts.findByEmail('imported.one@example.com')).toBeNull();
    const migrated = await migrateKeyedLayouts();
    expect(migrated.contactKeys).toBe(await ContactModel.collection.countDocuments({}));
    expect((await contacts.findByEmail('imported.one@example.com'))?.firstName).toBe('One');
    expect(await contacts.findByEmail('keyed.person@example.com')).not.toBeNull();
    expect((await migrateKeyedLayouts()).contactKeys).toBe(0);
  }, 60_000);
});

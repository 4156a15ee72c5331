/**
 * The importer finds the people a file already knows by `_id` (pointer, then contact), never with an
 * `$in` list, which FerretDB evaluates against every document of the collection for every window; and
 * it checks erased addresses against the database as it goes, so an address erased while a long import
 * runs is not re-created by a later window.
 */
import { PassThrough, Readable } from 'node:stream';
import mongoose from 'mongoose';
import type { CommandStartedEvent } from 'mongodb';
import { initDatabase } from '../../../data/db';
import { createContacts } from '../../../data/contacts';
import { ContactKeyModel } from '../../../data/contact-keys';
import { ContactModel } from '../../../data/contact-model';
import { importContacts } from '../../../data/import';
import { INDEX_SEARCH, uniqueDatabaseUri } from '../../helpers/db';
import { TEST_KEYS } from './setup';

const contacts = createContacts(TEST_KEYS);
let recording: CommandStartedEvent[] | null = null;

beforeAll(async () => {
  await mongoose.connect(uniqueDatabaseUri('import_keys'), { serverSelectionTimeoutMS: 10_000, monitorCommands: true });
  mongoose.connection.getClient().on('commandStarted', (e: CommandStartedEvent) => recording?.push(e));
  await initDatabase();
}, 60_000);
afterAll(async () => {
  await mongoose.connection.dropDatabase().catch(() => undefined);
  await mongoose.disconnect();
});
const csv = (rows: string[]) => `email,first_name\n${rows.join('\n')}\n`;

describe('importing into a database that already knows some of the people', () => {
  it('reads the known ones by `_id` only, each read an index search, and updates them without duplicates', async () => {
    const seeded = Array.from({ length: 300 }, (_, i) => `known${i}@example.com,Before${i}`);
    expect(await importContacts(Readable.from([csv(seeded)]), contacts, { batchSize: 100 })).toMatchObject({ created: 300 });
    // One pointer lost (a crash between the contact and its pointer): that person is found by address.
    await ContactKeyModel.collection.deleteOne({ _id: 'e:known7@example.com' } as never);

    const file = [
      ...Array.from({ length: 300 }, (_, i) => `Known${i}@Example.com,After${i}`),
      ...Array.from({ length: 100 }, (_, i) => `fresh${i}@example.com,Fresh${i}`),
    ];
    const seen: CommandStartedEvent[] = [];
    recording = seen;
    const summary = await importContacts(Readable.from([csv(file)]), contacts, { batchSize: 100 });
    recording = null;
    expect(summary).toMatchObject({ rows: 400, updated: 300, created: 100, duplicates: 0, rejected: 0 });
    expect(await ContactModel.collection.countDocuments({})).toBe(400);
    expect((await contacts.findByEmail('known7@example.com'))?.firstName).toBe('After7');
    expect((await contacts.findByEmail('known299@example.com'))?.firstName).toBe('After299');

    const finds = seen.filter((e) => e.commandName === 'find').map((e) => e.command as { find: string; filter: Record<string, unknown> });
    // A filter on `_id` alone with one value (a string or an ObjectId, no operator).
    const byId = finds.filter((f) => Object.keys(f.filter).join() === '_id' && !JSON.stringify(f.filter._id).includes('"$'));
    // Two `_id` reads per known person (pointer, contact) and no lists anywhere but the one lost pointer's.
    expect(byId.filter((f) => f.find === 'contact_keys')).toHaveLength(300);
    expect(byId.filter((f) => f.find === 'contacts')).toHaveLength(299);
    const others = finds.filter((f) => !byId.includes(f));
    expect(others.map((f) => JSON.stringify(f.filter))).toEqual([
      '{"emailKey":{"$exists":true}}', // the known keys, hashed, once per import
      '{"emailKey":{"$in":["known7@example.com"]}}', // the lost pointer
    ]);
    // Erased addresses are counted once per window (and read only when there are more than before: none here).
    const counts = seen.filter((e) => e.commandName === 'aggregate').map((e) => e.command as { aggregate: string; pipeline: object[] });
    expect(counts.map((c) => `${c.aggregate} ${JSON.stringify(c.pipeline[0])}`)).toEqual(Array(4).fill('suppressions {"$match":{"reason":"erased"}}'));
    for (const f of [byId.find((x) => x.find === 'contact_keys')!, byId.find((x) => x.find === 'contacts')!]) {
      const plan = await mongoose.connection.db!.command({ explain: { find: f.find, filter: f.filter }, verbosity: 'queryPlanner' });
      expect(JSON.stringify(plan.queryPlanner)).toMatch(INDEX_SEARCH);
    }
  }, 120_000);

  it('does not re-create an address erased while the import runs, between two of its windows', async () => {
    // Created after the import started (so not among the keys it read at the start), erased after its first window.
    const source = new PassThrough();
    let firstWindow!: () => void;
    const firstWindowDone = new Promise<void>((r) => (firstWindow = r));
    source.write(csv(Array.from({ length: 50 }, (_, i) => `early${i}@example.com,Early`)));
    const running = importContacts(source, contacts, { batchSize: 50, onProgress: (n) => n >= 50 && firstWindow() });
    await firstWindowDone;
    const late = await contacts.upsertContact({ email: 'erased.meanwhile@example.com' });
    await contacts.eraseContact(String(late.contact._id));
    source.end(['late@example.com,Late', 'Erased.Meanwhile@example.com,Back', ''].join('\n'));
    const summary = await running;
    expect(summary).toMatchObject({ rows: 52, created: 51, rejected: 1, rejectedByReason: { E_ERASED: 1 } });
    expect(await contacts.findByEmail('erased.meanwhile@example.com')).toBeNull();
    expect(await ContactModel.collection.countDocuments({ emailKey: 'erased.meanwhile@example.com' })).toBe(0);
  }, 60_000);
});

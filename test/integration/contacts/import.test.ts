import { Readable } from 'node:stream';
import { useContactsDatabase } from './setup';
import { generateMessyCsv } from './messy-csv';
import { ContactModel } from '../../../data/contact-model';
import { importContacts, type RowError } from '../../../data/import';

jest.setTimeout(60_000);

describe('CSV import of a messy file', () => {
  const { contacts } = useContactsDatabase('import');
  const messy = generateMessyCsv(10_000);

  beforeAll(async () => {
    for (const s of messy.seed) await contacts.upsertContact(s, { source: 'seed' });
  });

  it('previews the exact summary of 10,000 messy rows in a dry run without writing anything', async () => {
    const before = await ContactModel.countDocuments();
    const summary = await importContacts(Readable.from([messy.csv]), contacts, { dryRun: true });
    expect(summary).toMatchObject({ ...messy.expected, dryRun: true });
    expect(await ContactModel.countDocuments()).toBe(before);
  });

  it('imports 10,000 messy rows with an exact summary: created, updated, unchanged, duplicates merged, rejected by reason', async () => {
    const errors: RowError[] = [];
    const progress: number[] = [];
    const summary = await importContacts(Readable.from([messy.csv]), contacts, { onRowError: (e) => errors.push(e), onProgress: (n) => progress.push(n) });
    expect(summary).toMatchObject(messy.expected);
    expect(summary.created + summary.updated + summary.unchanged + summary.duplicates + summary.rejected).toBe(10_000);
    expect(errors).toHaveLength(messy.expected.rejected);
    expect(errors[0].row).toBeGreaterThanOrEqual(2);
    expect(progress[progress.length - 1]).toBe(10_000);
    expect(await ContactModel.countDocuments()).toBe(messy.seed.length + messy.createdKeys.size);
    expect(await ContactModel.countDocuments({ emailKey: { $in: [...messy.createdKeys].slice(0, 500) } })).toBe(500);
  });

  it('changes nothing when the same file is imported again', async () => {
    const summary = await importContacts(Readable.from([messy.csv]), contacts);
    const firstRows = messy.expected.created + messy.expected.updated + messy.expected.unchanged;
    expect(summary).toMatchObject({ created: 0, updated: 0, unchanged: firstRows, duplicates: messy.expected.duplicates, rejected: messy.expected.rejected });
  });
});

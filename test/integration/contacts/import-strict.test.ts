/** `--strict` keeps the rules before warnings: the same messy file gives the counts it gave then. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { useContactsDatabase } from './setup';
import { generateMessyCsv } from './messy-csv';
import { ContactModel } from '../../../data/contact-model';

const run = promisify(execFile);
const bin = path.join(__dirname, '..', '..', '..', 'bin', 'sojourn');
jest.setTimeout(300_000);

describe('sojourn contacts import --strict', () => {
  const { db, contacts } = useContactsDatabase('import_strict');
  const messy = generateMessyCsv(2500);
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-strict-')), 'messy.csv');
  fs.writeFileSync(file, messy.csv);

  beforeAll(async () => {
    for (const s of messy.seed) await contacts.upsertContact(s, { source: 'seed' });
  });

  it('rejects every row with a bad field, with the codes of before, and imports the rest', async () => {
    let out: { stdout: string; code: number };
    try {
      out = { stdout: (await run(bin, ['contacts', 'import', file, '--strict', '--default-region', 'CN', '--date-order', 'dmy', '--format', 'json'], { env: { ...process.env, MONGODB_URI: db.uri } })).stdout, code: 0 };
    } catch (err) {
      out = { stdout: (err as { stdout: string }).stdout, code: (err as { code: number }).code };
    }
    expect(out.code).toBe(1);
    const summary = JSON.parse(out.stdout);
    expect(summary).toMatchObject({ ...messy.strict, strict: true, withWarnings: 0, warnings: {} });
    expect(summary.rejectedByReason).toEqual(messy.strict.rejectedByReason);
    expect(await ContactModel.countDocuments()).toBe(messy.seed.length + messy.strict.created);
  });
});

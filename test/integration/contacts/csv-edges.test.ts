/**
 * CSV edges (issue 11 item 9): columns named like Object.prototype members are ordinary columns, and a
 * broken line (a stray or unclosed quote) is a rejected row while the import goes on, in dry runs and
 * real runs alike. Also: an interrupted import resumes from its checkpoint with no duplicate and no gap.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { useContactsDatabase } from './setup';
import { ContactModel } from '../../../data/contact-model';
import { importContacts, type RowError } from '../../../data/import';
import { importCheckpoints } from '../../../data/import-checkpoint';

jest.setTimeout(120_000);

describe('CSV edges and resuming', () => {
  const { contacts } = useContactsDatabase('csv_edges');

  it('treats columns named constructor, toString, valueOf and __proto__ as ordinary columns', async () => {
    const csv = 'email,constructor,toString,valueOf,__proto__,hasOwnProperty\nproto.one@example.com,a,b,c,d,e\nproto.two@example.com,,,,,\n';
    for (const dryRun of [true, false]) {
      const s = await importContacts(Readable.from([csv]), contacts, { dryRun });
      expect(s).toMatchObject({ rows: 2, created: 2, rejected: 0, unmappedColumns: ['constructor', 'toString', 'valueOf', '__proto__', 'hasOwnProperty'] });
    }
    // Mapped to fields and attributes, they carry data like any other column.
    const mapped = 'email,constructor,toString,valueOf\nproto.three@example.com,Ada,Lovelace,x\n';
    const s = await importContacts(Readable.from([mapped]), contacts, { map: { constructor: 'firstName', toString: 'lastName', valueOf: 'attributes.valueOf' } });
    expect(s).toMatchObject({ created: 1, rejected: 0, withWarnings: 0 });
    const c = await contacts.findByEmail('proto.three@example.com');
    expect(c).toMatchObject({ firstName: 'Ada', lastName: 'Lovelace', attributes: { valueOf: 'x' } });
    expect(Object.getPrototypeOf(c!.attributes)).toBe(Object.prototype);
  });

  it('refuses an attribute named __proto__ by name (a warning, the person is kept) and pollutes nothing', async () => {
    const csv = 'email,extra\nproto.four@example.com,{"polluted":true}\n';
    const s = await importContacts(Readable.from([csv]), contacts, { map: { extra: 'attributes.__proto__' } });
    expect(s).toMatchObject({ created: 1, withWarnings: 1, warnings: { 'attributes.__proto__': { E_ATTRIBUTE: 1 } } });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const c = await ContactModel.findOne({ email: 'proto.four@example.com' }).lean();
    expect(Object.keys(c!.attributes)).toEqual([]);
  });

  it('names the columns when two feed the same field, before reading any row', async () => {
    const csv = 'email,E-mail,first_name\na@example.com,b@example.com,A\n';
    await expect(importContacts(Readable.from([csv]), contacts)).rejects.toMatchObject({ code: 'E_IMPORT_COLUMNS', message: expect.stringContaining('"email" and "E-mail"') });
  });

  it('rejects a broken line (stray quote, unclosed quote) as a row with its line number and imports every other row', async () => {
    const lines = [
      'email,first_name,last_name',
      'quote.one@example.com,One,"Multi',
      'line"',
      'quote.two@example.com,"Two"x,Bad', // text after a closing quote
      'quote.three@example.com,Th"ree,Stray', // a quote inside an unquoted cell is kept
      'quote.four@example.com,"Four,Unclosed', // never closed: only this line is lost
      'quote.five@example.com,Five,Ok',
      'quote.six@example.com,Six,Ok',
    ];
    const csv = `${lines.join('\n')}\n`;
    for (const dryRun of [true, false]) {
      const errors: RowError[] = [];
      const s = await importContacts(Readable.from([csv]), contacts, { dryRun, onRowError: (e) => errors.push(e) });
      expect(s).toMatchObject({ rows: 6, created: 4, rejected: 2, rejectedByReason: { E_CSV_QUOTE: 2 } });
      expect(errors.map((e) => [e.row, e.line, e.code])).toEqual([[3, 4, 'E_CSV_QUOTE'], [5, 6, 'E_CSV_QUOTE']]);
      expect(errors[0].message).toMatch(/^line 4: unexpected text after a closing quote/);
      expect(errors[1].message).toBe('line 6: a quote opened here is never closed');
    }
    expect((await contacts.findByEmail('quote.one@example.com'))!.lastName).toBe('Multi\nline');
    expect((await contacts.findByEmail('quote.three@example.com'))!.firstName).toBe('Th"ree');
    expect(await contacts.findByEmail('quote.six@example.com')).not.toBeNull();
    expect(await contacts.findByEmail('quote.four@example.com')).toBeNull();
  });

  it('resumes an interrupted import from its checkpoint: no duplicate, no gap, counts for the whole file', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-resume-'));
    const file = path.join(dir, 'people.csv');
    const rows = ['email,first_name,consent_email'];
    // 1,200 addresses, then 300 repeats across windows: 280 identical, 20 with a new name (the last row wins).
    // Rows 3 and 4 have a bad consent before the interruption: counted under the field "consent.email",
    // a key with a dot that the checkpoint must store (FerretDB refuses such keys in documents).
    for (let i = 0; i < 1500; i++) rows.push(`resume${i % 1200}@example.com,R${i >= 1480 ? i : i % 1200},${i === 3 || i === 4 ? 'maybe' : 'yes'}`);
    fs.writeFileSync(file, `${rows.join('\n')}\n`);
    const open = (start: number) => fs.createReadStream(file, { start });
    const fileId = 'test-resume-file';
    const before = await ContactModel.countDocuments();

    const stop = new AbortController();
    const first = await importContacts(open, contacts, {
      batchSize: 250, resume: { fileId }, signal: stop.signal,
      onProgress: (n) => { if (n >= 500) stop.abort(); },
    });
    expect(first.interrupted).toBe(true);
    expect(first.rows).toBeLessThan(1200);
    const cp = await importCheckpoints.load<{ rows: number }>(fileId);
    expect(cp).toMatchObject({ row: first.rows + 1 });
    expect(await ContactModel.countDocuments()).toBe(before + first.created);

    const second = await importContacts(open, contacts, { batchSize: 250, resume: { fileId } });
    expect(second.interrupted).toBeUndefined();
    expect(second.resumedAfterRow).toBe(first.rows + 1);
    // The two rejected addresses come again later in the file and are created there.
    expect(second).toMatchObject({ rows: 1500, created: 1200, duplicates: 298, rejected: 2, rejectedByField: { 'consent.email': { E_CONSENT_STATUS: 2 } } });
    expect(await ContactModel.countDocuments()).toBe(before + 1200);
    expect(await importCheckpoints.load(fileId)).toBeNull();
    // The last row of each address won (no row skipped, none applied twice out of order).
    expect((await contacts.findByEmail('resume299@example.com'))!.firstName).toBe('R1499');
    expect((await contacts.findByEmail('resume279@example.com'))!.firstName).toBe('R279');
  });
});

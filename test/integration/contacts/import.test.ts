/**
 * Issue 17 through the command line: a generated messy file (seeded, 2,500 rows) whose expected
 * counts come from the generator's own bookkeeping (test/integration/contacts/messy-csv.ts), never
 * from the importer. Keep the person, drop the bad field; the problem report is fixed and imported again.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'csv-parse/sync';
import { useContactsDatabase } from './setup';
import { generateMessyCsv } from './messy-csv';
import { ContactModel } from '../../../data/contact-model';

const run = promisify(execFile);
const bin = path.join(__dirname, '..', '..', '..', 'bin', 'sojourn');
jest.setTimeout(600_000);

describe('importing a messy 2,500-row export keeps every person with a valid address', () => {
  const { db, contacts } = useContactsDatabase('import');
  const messy = generateMessyCsv(2500);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-import-'));
  const file = path.join(dir, 'messy.csv');
  const report = path.join(dir, 'report.csv');
  fs.writeFileSync(file, messy.csv);
  const readers = ['--default-region', 'CN', '--date-order', 'dmy'];
  const sojourn = async (...args: string[]): Promise<{ json: Record<string, unknown>; code: number }> => {
    try {
      const { stdout } = await run(bin, args, { env: { ...process.env, MONGODB_URI: db.uri }, maxBuffer: 1 << 24 });
      return { json: JSON.parse(stdout), code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string; code?: number };
      if (!e.stdout) throw new Error(`sojourn ${args.join(' ')} failed: ${e.stderr}`);
      return { json: JSON.parse(e.stdout), code: e.code ?? -1 };
    }
  };

  beforeAll(async () => {
    for (const s of messy.seed) await contacts.upsertContact(s, { source: 'seed' });
  });

  it('the generator itself: a file with bad phones, dates, zones and addresses, and duplicates in other spellings', () => {
    expect(messy.lenient.rejected).toBeGreaterThan(100);
    expect(messy.lenient.withWarnings).toBeGreaterThan(20);
    expect(messy.lenient.duplicates).toBeGreaterThan(100);
    expect(Object.keys(messy.lenient.warnings).sort()).toEqual(['birthday', 'phone', 'timezone']);
    expect(messy.strict.rejected).toBeGreaterThan(messy.lenient.rejected);
  });

  it('previews the exact counts in a dry run and writes nothing', async () => {
    const before = await ContactModel.countDocuments();
    const { json } = await sojourn('contacts', 'import', file, ...readers, '--dry-run', '--format', 'json');
    expect(json).toMatchObject({ ...messy.lenient, dryRun: true, strict: false });
    expect(await ContactModel.countDocuments()).toBe(before);
  });

  it('imports every distinct valid address once; bad secondary fields are warnings per field and code, as injected', async () => {
    const { json, code } = await sojourn('contacts', 'import', file, ...readers, '--errors', report, '--format', 'json');
    expect(code).toBe(1); // some rows (bad addresses) were rejected
    expect(json).toMatchObject(messy.lenient);
    const s = json as unknown as typeof messy.lenient;
    // Imported (created) plus merged into existing contacts (updated, unchanged) = distinct valid addresses.
    expect(s.created + s.updated + s.unchanged).toBe(messy.validKeys.size);
    expect(s.duplicates).toBe(2500 - s.rejected - messy.validKeys.size);
    expect(s.warnings).toEqual(messy.lenient.warnings);
    expect(await ContactModel.countDocuments()).toBe(messy.seed.length + messy.createdKeys.size);
    expect(await ContactModel.countDocuments({ emailKey: { $in: [...messy.validKeys] } })).toBe(messy.validKeys.size);
    // A formula-like name is data: stored exactly as written.
    if (messy.formulaNames.length) expect(await ContactModel.countDocuments({ firstName: messy.formulaNames[0] })).toBeGreaterThan(0);
  });

  it('writes a report with the original cells (formulas escaped) that imports again as it is, once fixed, without duplicates', async () => {
    const text = fs.readFileSync(report, 'utf8');
    const rows = parse(text, { columns: false }) as string[][];
    const header = rows[0];
    expect(header).toEqual([...messy.header, 'sojourn_row', 'sojourn_status', 'sojourn_problems']);
    const body = rows.slice(1);
    expect(body).toHaveLength(messy.lenient.rejected + messy.lenient.withWarnings);
    expect(body.filter((r) => r[header.indexOf('sojourn_status')] === 'rejected')).toHaveLength(messy.lenient.rejected);
    // No cell would run as a formula in a spreadsheet; phone numbers such as +86... carry the escape.
    for (const r of body) for (const cell of r) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    expect(body.some((r) => r[header.indexOf('Phone')].startsWith("'+"))).toBe(true);
    // Every problem row names its column and code.
    const problems = body.map((r) => r[header.indexOf('sojourn_problems')]);
    expect(problems.every((p) => /^(Email|Phone|Birthday|Time Zone): [EW]_[A-Z_]+ /.test(p))).toBe(true);

    // Fix the report by hand: a good value in every bad cell, nothing else touched.
    const rowCol = header.indexOf('sojourn_row');
    let fixedRejected = 0;
    let fixedWarnings = 0;
    const fixedRows = body.map((r) => {
      const fix = messy.fixes.get(Number(r[rowCol]));
      if (!fix) throw new Error(`row ${r[rowCol]} is in the report but the generator put no problem there`);
      if (r[header.indexOf('sojourn_status')] === 'rejected') fixedRejected++;
      else fixedWarnings++;
      return r.map((cell, i) => fix[header[i]] ?? cell);
    });
    const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
    const fixedFile = path.join(dir, 'report-fixed.csv');
    fs.writeFileSync(fixedFile, [header, ...fixedRows].map((r) => r.map(csvCell).join(',')).join('\n'));

    const before = await ContactModel.countDocuments();
    const { json, code } = await sojourn('contacts', 'import', fixedFile, ...readers, '--format', 'json');
    expect(code).toBe(0);
    expect(json).toMatchObject({ rows: body.length, created: fixedRejected, updated: fixedWarnings, unchanged: 0, duplicates: 0, rejected: 0, withWarnings: 0, warnings: {} });
    expect(await ContactModel.countDocuments()).toBe(before + fixedRejected);
    // The fields that were missing are there now.
    const fixedKeys = fixedRows.filter((r) => r[header.indexOf('sojourn_status')] !== 'rejected').map((r) => r[0].trim().toLowerCase());
    const stored = await ContactModel.find({ email: { $in: fixedRows.map((r) => r[0].trim()) } }).lean();
    expect(stored.length).toBeGreaterThanOrEqual(fixedKeys.length);
    for (const r of fixedRows) {
      const c = stored.find((d) => d.email === r[0].trim());
      if (!c) continue; // an IDN address is stored as written; found by key below
      if (r[header.indexOf('Phone')] === '+86 139 0000 0001') expect(c.phones.length).toBeGreaterThan(0);
      if (r[header.indexOf('Birthday')] === '1991-01-02') expect(c.birthday).toMatchObject({ month: 1, day: 2, year: 1991 });
      if (r[header.indexOf('Time Zone')] === 'Asia/Singapore') expect(c.timezone).toBe('Asia/Singapore');
    }
  });
});

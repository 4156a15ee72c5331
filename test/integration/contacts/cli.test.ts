import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ContactModel } from '../../../data/contact-model';
import { useContactsDatabase } from './setup';

const run = promisify(execFile);
const bin = path.join(__dirname, '..', '..', '..', 'bin', 'sojourn');

describe('the contacts command line', () => {
  const { db } = useContactsDatabase('cli');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-cli-'));
  const csv = path.join(dir, 'people.csv');
  fs.writeFileSync(csv, [
    'E-mail,Given name,Birthday',
    'Ana@Example.com,Ana,1992-02-29',
    'ana@example.com,Ana,',
    'not-an-address,Bo,',
    'cai@例え.jp,Cai,1985-07-04',
    'dan@example.com,Dan,1990-02-29',
  ].join('\n'));
  /** Runs the CLI; resolves with its output and exit code (1 = some rows rejected, as documented). */
  const sojourn = async (...args: string[]): Promise<{ stdout: string; code: number }> => {
    try {
      return { stdout: (await run(bin, args, { env: { ...process.env, MONGODB_URI: db.uri } })).stdout, code: 0 };
    } catch (err) {
      const e = err as { stdout?: string; code?: number };
      return { stdout: e.stdout ?? '', code: e.code ?? -1 };
    }
  };

  it('imports a CSV with a column mapping: a dry run writes nothing, the real run reports rejected rows by number', async () => {
    const map = ['--map', 'E-mail=email', '--map', 'Given name=firstName', '--map', 'Birthday=birthday'];
    const dryRun = await sojourn('contacts', 'import', csv, ...map, '--dry-run', '--format', 'json');
    expect(dryRun.code).toBe(1);
    const dry = JSON.parse(dryRun.stdout);
    // Dan's impossible birthday is a warning now: Dan is imported without it.
    expect(dry).toMatchObject({ created: 3, duplicates: 1, rejected: 1, withWarnings: 1, warnings: { birthday: { E_BIRTHDAY: 1 } } });
    expect(await ContactModel.countDocuments()).toBe(0);

    const errors = path.join(dir, 'errors.csv');
    const real = JSON.parse((await sojourn('contacts', 'import', csv, ...map, '--errors', errors, '--format', 'json')).stdout);
    expect(real).toMatchObject({ created: 3, duplicates: 1, rejected: 1, withWarnings: 1 });
    expect(await ContactModel.countDocuments()).toBe(3);
    const report = fs.readFileSync(errors, 'utf8').trim().split('\n');
    expect(report[0]).toBe('E-mail,Given name,Birthday,sojourn_row,sojourn_status,sojourn_problems');
    expect(report[1]).toMatch(/^not-an-address,Bo,,4,rejected,"?E-mail: E_EMAIL/); // the bad address is on CSV row 4
    expect(report[2]).toMatch(/^dan@example.com,Dan,1990-02-29,6,imported_with_warnings,"?Birthday: E_BIRTHDAY/); // 29 February 1990 does not exist
  }, 240_000);

  it('exports a contact by address and erases it, after which the address is gone from the database', async () => {
    const exported = JSON.parse((await sojourn('contacts', 'export', 'cai@例え.jp')).stdout);
    expect(exported.contact.firstName).toBe('Cai');
    await sojourn('contacts', 'erase', 'cai@例え.jp');
    const raw = JSON.stringify(await ContactModel.find({}).lean());
    expect(raw).not.toMatch(/cai@/i);
  }, 240_000);
});

/**
 * `sojourn contacts import|export|erase`. Import streams a CSV (csv-parse), maps columns (--map),
 * dedupes against existing contacts, can preview (--dry-run), shows progress on stderr, writes a
 * per-row error report (--errors) and prints a summary. Exit codes: 0 ok, 1 rows were rejected or the
 * contact was not found, 2 bad usage.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { loadConfig } from '../../lib/config';
import { connectDatabase, disconnectDatabase, initDatabase } from '../../data/db';
import { createContacts, type Contacts } from '../../data/contacts';
import { importContacts, checkMapping, type RowError } from '../../data/import';
import { registerUpload } from './contacts-upload';

async function withContacts<T>(fn: (c: Contacts) => Promise<T>): Promise<T> {
  const cfg = loadConfig();
  await connectDatabase(cfg.mongodbUri);
  try {
    await initDatabase();
    return await fn(createContacts({ secret: cfg.secret, phoneKey: cfg.phoneKey }));
  } finally {
    await disconnectDatabase();
  }
}

async function resolveId(c: Contacts, idOrEmail: string): Promise<string | null> {
  if (idOrEmail.includes('@')) return (await c.findByEmail(idOrEmail))?._id.toString() ?? null;
  return (await c.getContact(idOrEmail))?._id.toString() ?? null;
}

/** Newlines in the file, counted while streaming (the progress bar's total; quoted multi-line cells make it approximate). */
async function countLines(file: string): Promise<number> {
  let n = 0;
  let last = 10;
  for await (const chunk of fs.createReadStream(file)) for (const b of chunk as Buffer) if ((last = b) === 10) n++;
  return last === 10 ? n : n + 1; // a last line without a newline is a line too
}

const csvCell = (v: string | number) => (/[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v));

export function register(program: Command): void {
  const contacts = program.command('contacts').description('Import, export and erase contacts');
  registerUpload(contacts);

  contacts
    .command('import <file>')
    .description('Import contacts from a CSV file (header row required; deduplicated by email)')
    .option('--map <col=field...>', 'map a CSV column to a field (email, firstName, phone, tags, consent.email, attributes.<name>, ignore, ...)', [])
    .option('--dry-run', 'check and count only; write nothing')
    .option('--errors <file>', 'write rejected rows (row number, code, field, reason) to this CSV file')
    .option('--batch-size <n>', 'rows grouped per database round', (v) => Number(v))
    .option('--format <format>', 'summary format: text or json', 'text')
    .action(async (file: string, o: { map: string[]; dryRun?: boolean; errors?: string; batchSize?: number; format: string }) => {
      const map: Record<string, string> = {};
      for (const m of o.map) {
        const i = m.lastIndexOf('=');
        if (i <= 0) throw new Error(`--map expects column=field, got "${m}"`);
        map[m.slice(0, i)] = m.slice(i + 1);
      }
      const bad = checkMapping(map);
      if (bad) {
        console.error(bad);
        process.exit(2);
      }
      if (!fs.existsSync(file)) {
        console.error(`no such file: ${file}`);
        process.exit(2);
      }
      const total = (await countLines(file)) - 1;
      const errorsOut = o.errors ? fs.createWriteStream(o.errors) : null;
      errorsOut?.write('row,code,field,reason\n');
      const bar = process.stderr.isTTY ? new SingleBar({ stream: process.stderr, format: 'importing [{bar}] {value}/{total} rows' }, Presets.shades_classic) : null;
      bar?.start(Math.max(total, 0), 0);
      const summary = await withContacts((c) =>
        importContacts(fs.createReadStream(file), c, {
          map,
          dryRun: o.dryRun,
          batchSize: o.batchSize,
          onProgress: (n) => (bar ? bar.update(n) : process.stderr.write(`imported ${n}/${total} rows\n`)),
          onRowError: (e: RowError) => errorsOut?.write(`${[e.row, e.code, e.field, e.message].map(csvCell).join(',')}\n`),
        }),
      );
      bar?.stop();
      await new Promise<void>((r) => (errorsOut ? errorsOut.end(r) : r()));
      if (o.format === 'json') console.log(JSON.stringify(summary, null, 2));
      else {
        console.log(`${summary.dryRun ? 'Dry run (nothing written): ' : ''}${summary.rows} rows`);
        console.log(`  created            ${summary.created}`);
        console.log(`  updated            ${summary.updated}`);
        console.log(`  unchanged          ${summary.unchanged}`);
        console.log(`  duplicates merged  ${summary.duplicates}`);
        console.log(`  rejected           ${summary.rejected}`);
        for (const [code, n] of Object.entries(summary.rejectedByReason).sort((a, b) => b[1] - a[1])) console.log(`    ${code.padEnd(24)} ${n}`);
        for (const [code, n] of Object.entries(summary.ignoredByReason)) console.log(`  not applied: ${code} ${n}`);
        if (summary.unmappedColumns.length) console.log(`  columns ignored: ${summary.unmappedColumns.join(', ')} (use --map)`);
        if (o.errors && summary.rejected) console.log(`  rejected rows written to ${o.errors}`);
      }
      process.exitCode = summary.rejected > 0 ? 1 : 0;
    });

  contacts
    .command('export <idOrEmail>')
    .description("Print a contact's data as JSON (GDPR/PIPL access request); audited")
    .action(async (idOrEmail: string) => {
      await withContacts(async (c) => {
        const id = await resolveId(c, idOrEmail);
        const data = id ? await c.exportContact(id, 'cli') : null;
        if (!data) {
          console.error('contact not found');
          process.exitCode = 1;
          return;
        }
        console.log(JSON.stringify(data, null, 2));
      });
    });

  contacts
    .command('erase <idOrEmail>')
    .description('Erase a contact: keeps only a hashed suppression entry and the audit record')
    .action(async (idOrEmail: string) => {
      await withContacts(async (c) => {
        const id = await resolveId(c, idOrEmail);
        const r = id ? await c.eraseContact(id, 'cli') : null;
        if (!r) {
          console.error('contact not found');
          process.exitCode = 1;
          return;
        }
        console.log(r.alreadyErased ? `contact ${id} was already erased` : `contact ${id} erased`);
      });
    });
}

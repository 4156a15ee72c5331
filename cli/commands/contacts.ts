/**
 * `sojourn contacts import|export|erase`. Import streams a CSV, maps columns (--map), dedupes against
 * existing contacts, keeps people whose secondary fields are bad (warnings; --strict rejects), can
 * preview (--dry-run), shows progress with rate and ETA on stderr, resumes after Ctrl-C, writes a
 * re-importable problem report (--errors) and prints a summary. Exit codes: 0 ok (warnings allowed),
 * 1 rows were rejected or the contact was not found, 2 bad usage, 130 interrupted (run again to resume).
 */
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { isSupportedCountry } from 'libphonenumber-js/max';
import { loadConfig } from '../../lib/config';
import { connectDatabase, disconnectDatabase, initDatabase } from '../../data/db';
import { createContacts, type Contacts } from '../../data/contacts';
import { importContacts, checkMapping } from '../../data/import';
import { importCheckpoints } from '../../data/import-checkpoint';
import { createReportWriter } from '../../data/import-report';
import { DATE_ORDERS, type DateOrder } from '../../lib/date-reader';
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

/**
 * One pass over the file before importing: its SHA-256 (the checkpoint key: the same bytes resume,
 * changed bytes start over) and its newline count (the progress bar's total; quoted multi-line cells
 * make it approximate).
 */
async function scanFile(file: string): Promise<{ sha256: string; lines: number }> {
  const hash = createHash('sha256');
  let n = 0;
  let last = 10;
  for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    let i = -1;
    while ((i = chunk.indexOf(10, i + 1)) >= 0) n++;
    last = chunk[chunk.length - 1];
  }
  return { sha256: hash.digest('hex'), lines: last === 10 ? n : n + 1 }; // a last line without a newline is a line too
}

const duration = (s: number) => (Number.isFinite(s) ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m${String(Math.floor(s % 60)).padStart(2, '0')}s` : '?');

function printCounts(title: string, counts: Record<string, Record<string, number>>) {
  const fields = Object.entries(counts);
  if (!fields.length) return;
  console.log(title);
  for (const [field, codes] of fields.sort()) {
    for (const [code, n] of Object.entries(codes).sort((a, b) => b[1] - a[1])) console.log(`    ${(field || '(line)').padEnd(16)} ${code.padEnd(24)} ${n}`);
  }
}

export function register(program: Command): void {
  const contacts = program.command('contacts').description('Import, export and erase contacts');
  registerUpload(contacts);

  contacts
    .command('import <file>')
    .description('Import contacts from a CSV file (header row required; deduplicated by email). A row with a valid address is imported; a bad phone, birthday, time zone, locale, tag or attribute is left unset and reported as a warning (--strict rejects the row instead). Interrupted imports (Ctrl-C) resume when run again.')
    .option('--map <col=field...>', 'map a CSV column to a field (email, firstName, phone, phoneCountry, tags, consent.email, attributes.<name>, ignore, ...)', [])
    .option('--dry-run', 'check and count only; write nothing')
    .option('--strict', 'reject a row on any bad field (instead of importing the person without that field)')
    .option('--default-region <CC>', 'country (ISO code, e.g. CN) for phone numbers written without + and without a country column')
    .option('--date-order <order>', 'order of numeric dates such as 03/04/1990: dmy, mdy or ymd (ISO dates are always read)')
    .option('--errors <file>', 'write rejected rows and rows with warnings (original cells, row, problems) to this CSV file; it can be fixed and imported again')
    .option('--restart', 'ignore the checkpoint of an interrupted import of this file and start from the first row')
    .option('--batch-size <n>', 'rows grouped per database round', (v) => Number(v))
    .option('--format <format>', 'summary format: text or json', 'text')
    .action(async (file: string, o: { map: string[]; dryRun?: boolean; strict?: boolean; defaultRegion?: string; dateOrder?: string; errors?: string; restart?: boolean; batchSize?: number; format: string }) => {
      const usage = (msg: string) => {
        console.error(msg);
        process.exit(2);
      };
      const map = new Map<string, string>();
      for (const m of o.map) {
        const i = m.lastIndexOf('=');
        if (i <= 0) usage(`--map expects column=field, got "${m}"`);
        map.set(m.slice(0, i), m.slice(i + 1));
      }
      const bad = checkMapping(map);
      if (bad) usage(bad);
      if (o.defaultRegion !== undefined && !isSupportedCountry(o.defaultRegion.toUpperCase() as never)) usage(`--default-region ${o.defaultRegion}: not a country code libphonenumber knows (e.g. CN, US, DE)`);
      if (o.dateOrder !== undefined && !(DATE_ORDERS as readonly string[]).includes(o.dateOrder)) usage(`--date-order ${o.dateOrder}: one of ${DATE_ORDERS.join(', ')}`);
      if (o.batchSize !== undefined && !(Number.isInteger(o.batchSize) && o.batchSize > 0)) usage('--batch-size expects a positive whole number');
      if (!fs.existsSync(file)) usage(`no such file: ${file}`);
      const scan = await scanFile(file);
      const total = Math.max(scan.lines - 1, 0);

      let report: ReturnType<typeof createReportWriter> | null = null;
      let reportOut: fs.WriteStream | null = null;
      const openReport = (header: string[], resumed: boolean) => {
        if (!o.errors) return;
        const append = resumed && fs.existsSync(o.errors);
        reportOut = fs.createWriteStream(o.errors, { flags: append ? 'a' : 'w' });
        report = createReportWriter(reportOut, header, { append });
      };

      // Ctrl-C: finish the batch being written, save the checkpoint, stop. A second Ctrl-C quits at once.
      const abort = new AbortController();
      const onSigint = () => {
        if (abort.signal.aborted) process.exit(130);
        process.stderr.write('\nstopping after the current batch (Ctrl-C again to quit now; the import resumes where it stopped when run again)\n');
        abort.abort();
      };
      process.on('SIGINT', onSigint);

      // Rate from the first progress report on (a resumed run starts counting at its checkpoint).
      let first: { rows: number; at: number } | null = null;
      let lastLog = 0;
      let lastRows = -1;
      const bar = process.stderr.isTTY
        ? new SingleBar({ stream: process.stderr, format: 'importing [{bar}] {percentage}% | {value}/{total} rows | {rate} rows/s | ETA {eta_formatted} | {duration_formatted}', etaBuffer: 50, fps: 5 }, Presets.shades_classic)
        : null;
      const progress = (rows: number) => {
        first ??= { rows, at: Date.now() };
        const secs = (Date.now() - first.at) / 1000;
        const rate = secs > 0 ? (rows - first.rows) / secs : 0;
        if (bar) {
          bar.update(Math.min(rows, total), { rate: Math.round(rate) });
        } else if ((Date.now() - lastLog >= 5000 || rows >= total) && rows !== lastRows && (rate > 0 || rows >= total)) {
          lastRows = rows;
          lastLog = Date.now();
          const eta = rate > 0 ? (total - rows) / rate : Infinity;
          process.stderr.write(`imported ${rows}/${total} rows, ${Math.round(rate)} rows/s, ETA ${duration(eta)}\n`);
        }
      };
      bar?.start(total, 0, { rate: 0 });
      let summary;
      try {
        summary = await withContacts(async (c) => {
          if (o.restart) await importCheckpoints.clear(scan.sha256);
          return importContacts((start) => fs.createReadStream(file, { start }), c, {
            map,
            dryRun: o.dryRun,
            strict: o.strict,
            defaultRegion: o.defaultRegion?.toUpperCase() ?? null,
            dateOrder: (o.dateOrder as DateOrder | undefined) ?? null,
            batchSize: o.batchSize,
            resume: { fileId: scan.sha256 },
            signal: abort.signal,
            onHeader: openReport,
            onProgress: progress,
            onReportRow: (r) => void (report as ReturnType<typeof createReportWriter> | null)?.write(r),
          });
        });
      } finally {
        bar?.stop();
        process.off('SIGINT', onSigint);
        const out = reportOut as fs.WriteStream | null;
        if (out) await new Promise<void>((r) => out.end(r));
      }
      if (o.format === 'json') console.log(JSON.stringify(summary, null, 2));
      else {
        const imported = summary.created + summary.updated + summary.unchanged + summary.duplicates;
        if (summary.resumedAfterRow) console.log(`Resumed after row ${summary.resumedAfterRow} (an earlier run was interrupted); counts cover the whole file.`);
        console.log(`${summary.dryRun ? 'Dry run (nothing written): ' : ''}${summary.rows} rows${summary.strict ? ' (strict)' : ''}`);
        console.log(`  imported           ${imported}`);
        console.log(`    created          ${summary.created}`);
        console.log(`    updated          ${summary.updated}`);
        console.log(`    unchanged        ${summary.unchanged}`);
        console.log(`    duplicates merged ${summary.duplicates}`);
        console.log(`  imported with warnings ${summary.withWarnings} (the field was left unset, or read by a guess)`);
        printCounts('  warnings by field and code:', summary.warnings);
        console.log(`  rejected           ${summary.rejected}`);
        printCounts('  rejected by field and code:', summary.rejectedByField);
        for (const [code, n] of Object.entries(summary.ignoredByReason)) console.log(`  not applied: ${code} ${n}`);
        if (summary.unmappedColumns.length) console.log(`  columns ignored: ${summary.unmappedColumns.join(', ')} (use --map)`);
        if (o.errors && (summary.rejected || summary.withWarnings)) console.log(`  problem rows written to ${o.errors} (fix them there and import that file again)`);
        if (summary.interrupted) console.log(`Interrupted after row ${summary.rows + 1}: run the same command again to resume.`);
      }
      process.exitCode = summary.interrupted ? 130 : summary.rejected > 0 ? 1 : 0;
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

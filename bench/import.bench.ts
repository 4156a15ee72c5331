/**
 * Import benchmark: rows/second of `importContacts` for N generated contacts (default 100,000) read
 * from a file as `sojourn contacts import` reads it (checkpointed, resumable), the process RSS at the
 * start, every tenth of the file, the peak and the end, and the ratio to a plain insertMany of the same
 * documents in the same run. The baseline writes exactly what the import writes (the contact documents,
 * their consent records and their `contact_keys` pointers) into a fresh database with the same indexes,
 * in chunks of 1,000, one at a time; building the documents is not timed. The import keeps two chunks
 * in flight: `--parallel` adds the baseline with two chunks in flight as well (the import's own overhead
 * at equal parallelism), `--indexless` one into collections without indexes (what the indexes cost).
 *
 *   npx tsx bench/import.bench.ts [--rows 100000] [--parallel] [--indexless]
 *   MONGODB_URI=mongodb://127.0.0.1:27017/x npx tsx bench/import.bench.ts --rows 1000000
 *
 * Without MONGODB_URI it starts the embedded database (FerretDB on PostgreSQL, as `npm start` does) on a
 * free port with a throw-away data folder. It uses fresh, uniquely named databases and drops them
 * afterwards. Memory stays flat in N: the CSV is written to a temporary file (about 100 bytes a row) and
 * the baseline documents are built chunk by chunk.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import mongoose, { Types } from 'mongoose';
import { connectDatabase, disconnectDatabase, initDatabase } from '../data/db';
import { createContacts } from '../data/contacts';
import { ContactModel } from '../data/contact-model';
import { ContactKeyModel } from '../data/contact-keys';
import { ConsentRecordModel } from '../data/consent-model';
import { importContacts, recordToInput, planColumns, type ImportSummary } from '../data/import';
import { prepareContact } from '../data/contact-input';
import { emptyContact, planMerge, applyPlan } from '../data/contact-merge';

const HEADER = 'email,first_name,last_name,phone,birthday,tags,consent_email';
/** Row i of the generated file: every address distinct, a third with a phone, four in five with consent. */
function line(i: number): string {
  const phone = i % 3 === 0 ? `+86 138 ${String(i % 10000).padStart(4, '0')} ${String((i * 7) % 10000).padStart(4, '0')}` : '';
  return `User${i}@Example${i % 50}.com,First${i},Last${i},${phone},19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 9},${i % 4 ? 'news' : 'news;vip'},${i % 5 ? 'yes' : ''}`;
}

const mb = (n: number) => `${Math.round(n / 1048576)} MB`;
const load = () => os.loadavg()[0].toFixed(1);

export interface ImportBenchResult {
  rows: number;
  summary: ImportSummary;
  importMs: number;
  insertMs: number;
  indexlessMs: number | null;
  /** The baseline with two chunks in flight, like the import (`--parallel`). */
  parallelMs: number | null;
  /** What each run stored: contacts, consent records, pointers (the import's and the baseline's must match). */
  stored: { contacts: number; consent: number; keys: number };
  baselineStored: { contacts: number; consent: number; keys: number };
  rss: { start: number; peak: number; end: number; byTenth: number[] };
  loadAverage: { start: string; end: string };
}

export async function runImportBench(opts: { rows: number; uri: string; indexless?: boolean; parallel?: boolean; log?: (s: string) => void }): Promise<ImportBenchResult> {
  const { rows } = opts;
  const log = opts.log ?? ((s: string) => process.stderr.write(s));
  const dbUri = (name: string) => {
    const url = new URL(opts.uri);
    url.pathname = `/${name}_${randomBytes(3).toString('hex')}`;
    return url.toString();
  };
  const loadStart = load();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-bench-'));
  const file = path.join(dir, 'contacts.csv');
  try {
    const out = fs.createWriteStream(file);
    out.write(`${HEADER}\n`);
    for (let i = 0; i < rows; i++) if (!out.write(`${line(i)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
    await new Promise<void>((r) => out.end(r));
    const hash = createHash('sha256');
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
    const sha = hash.digest('hex');

    const keys = { secret: 'bench-secret', phoneKey: '00'.repeat(32) };
    const contacts = createContacts(keys);
    const count = async () => ({
      contacts: await ContactModel.estimatedDocumentCount(),
      consent: await ConsentRecordModel.estimatedDocumentCount(),
      keys: await ContactKeyModel.estimatedDocumentCount(),
    });

    // 1. The import, as the CLI runs it (checkpoint after every window, progress as it goes).
    await connectDatabase(dbUri('bench_import'));
    await initDatabase();
    global.gc?.();
    const rssStart = process.memoryUsage().rss;
    let peak = rssStart;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);
    const byTenth: number[] = [];
    const t0 = performance.now();
    let lastLog = 0;
    const summary = await importContacts((start) => fs.createReadStream(file, { start }), contacts, {
      resume: { fileId: sha },
      onProgress: (n) => {
        while (byTenth.length < 10 && n >= (rows * (byTenth.length + 1)) / 10) byTenth.push(process.memoryUsage().rss);
        const now = performance.now();
        if (now - lastLog < 1000 && n < rows) return;
        lastLog = now;
        const rate = n / ((now - t0) / 1000);
        log(`\rimported ${n}/${rows} rows, ${Math.round(rate)} rows/s, ETA ${Math.round((rows - n) / Math.max(rate, 1))} s, RSS ${mb(process.memoryUsage().rss)}   `);
      },
    });
    const importMs = performance.now() - t0;
    clearInterval(sampler);
    const rssEnd = process.memoryUsage().rss;
    peak = Math.max(peak, rssEnd);
    log('\n');
    const stored = await count();
    if (summary.created !== rows || stored.contacts !== rows) throw new Error(`expected ${rows} contacts created, got ${JSON.stringify({ summary, stored })}`);
    await mongoose.connection.dropDatabase();
    await disconnectDatabase();

    // 2. The same documents with insertMany, into the same indexed collections of a fresh database.
    const plan = planColumns(HEADER.split(','));
    if ('code' in plan) throw new Error(plan.message);
    const build = (from: number, to: number) => {
      const now = new Date();
      const docs: object[] = [];
      const consent: object[] = [];
      const pointers: object[] = [];
      for (let i = from; i < to; i++) {
        const r = recordToInput(line(i).split(','), plan);
        if ('code' in r) throw new Error(r.code);
        const p = prepareContact(r.input, { requireEmail: true, lenient: true });
        if (!p.ok) throw new Error(p.error.code);
        const doc = emptyContact(new Types.ObjectId(), now, 'import');
        const merge = planMerge(doc, p.contact, { keys, now, source: 'import' });
        docs.push(applyPlan(doc, merge));
        pointers.push({ _id: `e:${doc.emailKey}`, c: doc._id });
        for (const c of merge.consent) consent.push({ ...c, contactId: String(doc._id), source: 'import', at: now, wording: null, ip: null, userAgent: null });
      }
      return { docs, consent, pointers };
    };
    let baselineStored = { contacts: 0, consent: 0, keys: 0 };
    const baseline = async (indexed: boolean, inFlight = 1) => {
      await connectDatabase(dbUri('bench_insert'));
      if (indexed) await initDatabase();
      const coll = (name: string) => mongoose.connection.collection(indexed ? name : `raw_${name}`);
      const write = async (chunk: ReturnType<typeof build>) => {
        await coll('contacts').insertMany(chunk.docs as never[], { ordered: false });
        if (chunk.consent.length) await coll('consent_records').insertMany(chunk.consent as never[], { ordered: false });
        await coll('contact_keys').insertMany(chunk.pointers as never[], { ordered: false });
      };
      let ms = 0;
      for (let i = 0; i < rows; i += 1000 * inFlight) {
        const chunks: ReturnType<typeof build>[] = [];
        for (let j = i; j < Math.min(rows, i + 1000 * inFlight); j += 1000) chunks.push(build(j, Math.min(rows, j + 1000)));
        const t = performance.now();
        await Promise.all(chunks.map(write));
        ms += performance.now() - t;
      }
      if (indexed && inFlight === 1) baselineStored = await count();
      await mongoose.connection.dropDatabase();
      await disconnectDatabase();
      return ms;
    };
    const insertMs = await baseline(true);
    const indexlessMs = opts.indexless ? await baseline(false) : null;
    const parallelMs = opts.parallel ? await baseline(true, 2) : null;
    return {
      rows, summary, importMs, insertMs, indexlessMs, parallelMs, stored, baselineStored,
      rss: { start: rssStart, peak, end: rssEnd, byTenth }, loadAverage: { start: loadStart, end: load() },
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The figures as the lines the benchmark prints. */
export function formatImportBench(r: ImportBenchResult): string {
  const rate = (ms: number) => Math.round(r.rows / (ms / 1000));
  const lines = [
    `rows:                          ${r.rows}`,
    `import:                        ${(r.importMs / 1000).toFixed(1)} s, ${rate(r.importMs)} rows/s (read, validate, dedupe, erased check, consent records, bulk insert, pointers, checkpoints)`,
    `insertMany, same indexes:      ${(r.insertMs / 1000).toFixed(1)} s, ${rate(r.insertMs)} rows/s (the same contact, consent and pointer documents)`,
  ];
  if (r.parallelMs !== null) lines.push(`insertMany, 2 chunks at once:  ${(r.parallelMs / 1000).toFixed(1)} s, ${rate(r.parallelMs)} rows/s (the import's parallelism)`);
  if (r.indexlessMs !== null) lines.push(`insertMany, no indexes:        ${(r.indexlessMs / 1000).toFixed(1)} s, ${rate(r.indexlessMs)} rows/s`);
  lines.push(
    `import / insertMany:           ${(r.insertMs / r.importMs).toFixed(2)}${r.parallelMs !== null ? ` (2 chunks at once: ${(r.parallelMs / r.importMs).toFixed(2)})` : ''}${r.indexlessMs !== null ? ` (no indexes: ${(r.indexlessMs / r.importMs).toFixed(2)})` : ''}`,
    `stored (import / baseline):    ${r.stored.contacts}/${r.baselineStored.contacts} contacts, ${r.stored.consent}/${r.baselineStored.consent} consent records, ${r.stored.keys}/${r.baselineStored.keys} pointers`,
    `RSS import start/peak/end:     ${mb(r.rss.start)} / ${mb(r.rss.peak)} / ${mb(r.rss.end)}`,
    `RSS at each tenth of the file: ${r.rss.byTenth.map(mb).join(', ')}`,
    `load average (1 min):          ${r.loadAverage.start} at the start, ${r.loadAverage.end} at the end`,
  );
  return lines.join('\n');
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main() {
  const rows = arg('rows', 100_000);
  let uri = process.env.MONGODB_URI;
  let stop = async () => undefined as void;
  if (!uri) {
    const { provision } = await import('../scripts/provision');
    const { freePort, startEmbeddedDatabase } = await import('../scripts/servers');
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-import-bench-'));
    fs.chmodSync(tmp, 0o755);
    const db = await startEmbeddedDatabase({ p: provision(), port: await freePort(), dataDir: path.join(tmp, 'data'), logDir: tmp });
    process.stderr.write(`[import bench] ${db.name} at ${db.uri}\n`);
    uri = db.uri;
    stop = async () => {
      await db.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    };
  }
  try {
    console.log(formatImportBench(await runImportBench({ rows, uri, indexless: process.argv.includes('--indexless'), parallel: process.argv.includes('--parallel') })));
  } finally {
    await stop();
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}

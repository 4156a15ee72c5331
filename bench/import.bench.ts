/**
 * Import benchmark: rows/second of `importContacts` for N generated contacts (default 100,000) read
 * from a file as `sojourn contacts import` reads it (checkpointed, resumable), the process RSS at the
 * start, the peak and the end, and the ratio to a plain insertMany of the same documents in the same
 * run. The baseline writes exactly what the import writes (the contact documents and their consent
 * records) into a fresh database with the same indexes, in chunks of 1,000; building the documents is
 * not timed. A second figure against an index-less collection shows what the indexes cost.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27101/x npx tsx bench/import.bench.ts [--rows 100000]
 *
 * Uses fresh, uniquely named databases and drops them afterwards. Memory stays flat in N: the CSV is
 * written to a temporary file and the baseline documents are built chunk by chunk.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import mongoose, { Types } from 'mongoose';
import { connectDatabase, disconnectDatabase, initDatabase } from '../data/db';
import { createContacts } from '../data/contacts';
import { importContacts, recordToInput, planColumns } from '../data/import';
import { prepareContact } from '../data/contact-input';
import { emptyContact, planMerge, applyPlan } from '../data/contact-merge';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const HEADER = 'email,first_name,last_name,phone,birthday,tags,consent_email';
function line(i: number): string {
  const phone = i % 3 === 0 ? `+86 138 ${String(i % 10000).padStart(4, '0')} ${String((i * 7) % 10000).padStart(4, '0')}` : '';
  return `User${i}@Example${i % 50}.com,First${i},Last${i},${phone},19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 9},${i % 4 ? 'news' : 'news;vip'},${i % 5 ? 'yes' : ''}`;
}

const mb = (n: number) => `${Math.round(n / 1048576)} MB`;

async function main() {
  const rows = arg('rows', 100_000);
  const base = process.env.MONGODB_URI;
  if (!base) throw new Error('set MONGODB_URI (e.g. mongodb://127.0.0.1:27101/x)');
  const dbUri = (name: string) => {
    const url = new URL(base);
    url.pathname = `/${name}_${randomBytes(3).toString('hex')}`;
    return url.toString();
  };
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-bench-')), 'contacts.csv');
  const out = fs.createWriteStream(file);
  out.write(`${HEADER}\n`);
  for (let i = 0; i < rows; i++) if (!out.write(`${line(i)}\n`)) await new Promise<void>((r) => out.once('drain', () => r()));
  await new Promise<void>((r) => out.end(r));
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  const sha = hash.digest('hex');

  const keys = { secret: 'bench-secret', phoneKey: '00'.repeat(32) };
  const contacts = createContacts(keys);
  let peak = process.memoryUsage().rss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 200);

  // 1. The import, as the CLI runs it.
  await connectDatabase(dbUri('bench_import'));
  await initDatabase();
  const rssStart = process.memoryUsage().rss;
  const t0 = performance.now();
  const summary = await importContacts((start) => fs.createReadStream(file, { start }), contacts, {
    resume: { fileId: sha },
    onProgress: (n) => process.stderr.write(`\rimported ${n}/${rows}`),
  });
  const importMs = performance.now() - t0;
  const rssEnd = process.memoryUsage().rss;
  process.stderr.write('\n');
  if (summary.created !== rows) throw new Error(`expected ${rows} created, got ${JSON.stringify(summary)}`);
  await mongoose.connection.dropDatabase();
  await disconnectDatabase();

  // 2. The same documents with insertMany, into the same indexed collections of a fresh database.
  const plan = planColumns(HEADER.split(','));
  if ('code' in plan) throw new Error(plan.message);
  const build = (from: number, to: number) => {
    const now = new Date();
    const docs: object[] = [];
    const consent: object[] = [];
    for (let i = from; i < to; i++) {
      const r = recordToInput(line(i).split(','), plan);
      if ('code' in r) throw new Error(r.code);
      const p = prepareContact(r.input, { requireEmail: true, lenient: true });
      if (!p.ok) throw new Error(p.error.code);
      const doc = emptyContact(new Types.ObjectId(), now, 'import');
      const merge = planMerge(doc, p.contact, { keys, now, source: 'import' });
      docs.push(applyPlan(doc, merge));
      for (const c of merge.consent) consent.push({ ...c, contactId: String(doc._id), source: 'import', at: now, wording: null, ip: null, userAgent: null });
    }
    return { docs, consent };
  };
  const baseline = async (indexed: boolean) => {
    await connectDatabase(dbUri('bench_insert'));
    if (indexed) await initDatabase();
    const contactsColl = mongoose.connection.collection(indexed ? 'contacts' : 'raw_contacts');
    const consentColl = mongoose.connection.collection(indexed ? 'consent_records' : 'raw_consent');
    let ms = 0;
    for (let i = 0; i < rows; i += 1000) {
      const { docs, consent } = build(i, Math.min(rows, i + 1000));
      const t = performance.now();
      await contactsColl.insertMany(docs as never[], { ordered: false });
      if (consent.length) await consentColl.insertMany(consent as never[], { ordered: false });
      ms += performance.now() - t;
    }
    await mongoose.connection.dropDatabase();
    await disconnectDatabase();
    return ms;
  };
  const insertMs = await baseline(true);
  const rawMs = await baseline(false);
  clearInterval(sampler);
  fs.rmSync(path.dirname(file), { recursive: true, force: true });

  const rate = (ms: number) => Math.round(rows / (ms / 1000));
  console.log(`rows:                          ${rows}`);
  console.log(`import:                        ${(importMs / 1000).toFixed(1)} s, ${rate(importMs)} rows/s (read, validate, dedupe, consent records, bulk insert, checkpoints)`);
  console.log(`insertMany, same indexes:      ${(insertMs / 1000).toFixed(1)} s, ${rate(insertMs)} rows/s (the same contact and consent documents)`);
  console.log(`insertMany, no indexes:        ${(rawMs / 1000).toFixed(1)} s, ${rate(rawMs)} rows/s`);
  console.log(`import / insertMany:           ${(insertMs / importMs).toFixed(2)} (no indexes: ${(rawMs / importMs).toFixed(2)})`);
  console.log(`RSS import start/end/peak:     ${mb(rssStart)} / ${mb(rssEnd)} / ${mb(peak)}`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

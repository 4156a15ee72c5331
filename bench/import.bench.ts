/**
 * Import benchmark: rows/second of `importContacts` for N generated contacts (default 100,000), and the
 * ratio to a plain insertMany of the same documents in the same run (the floor the database allows).
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27101/x npx tsx bench/import.bench.ts [--rows 100000]
 *
 * Uses a fresh, uniquely named database and drops it afterwards.
 */
import { Readable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import mongoose, { Types } from 'mongoose';
import { connectDatabase, disconnectDatabase, initDatabase } from '../data/db';
import { createContacts } from '../data/contacts';
import { importContacts } from '../data/import';
import { prepareContact } from '../data/contact-input';
import { emptyContact, planMerge, applyPlan } from '../data/contact-merge';
import { recordToInput, planColumns } from '../data/import';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

function generate(rows: number): string {
  const out = ['email,first_name,last_name,phone,birthday,tags,consent_email'];
  for (let i = 0; i < rows; i++) {
    const phone = i % 3 === 0 ? `+86 138 ${String(i % 10000).padStart(4, '0')} ${String((i * 7) % 10000).padStart(4, '0')}` : '';
    out.push(`User${i}@Example${i % 50}.com,First${i},Last${i},${phone},19${50 + (i % 50)}-0${1 + (i % 9)}-1${i % 9},${i % 4 ? 'news' : 'news;vip'},${i % 5 ? 'yes' : ''}`);
  }
  return `${out.join('\n')}\n`;
}

async function main() {
  const rows = arg('rows', 100_000);
  const base = process.env.MONGODB_URI;
  if (!base) throw new Error('set MONGODB_URI (e.g. mongodb://127.0.0.1:27101/x)');
  const url = new URL(base);
  url.pathname = `/bench_import_${randomBytes(3).toString('hex')}`;
  await connectDatabase(url.toString());
  try {
    await initDatabase();
    const keys = { secret: 'bench-secret', phoneKey: '00'.repeat(32) };
    const contacts = createContacts(keys);
    const csv = generate(rows);

    const t0 = performance.now();
    const summary = await importContacts(Readable.from([csv]), contacts, { onProgress: (n) => process.stderr.write(`\rimported ${n}/${rows}`) });
    const importMs = performance.now() - t0;
    process.stderr.write('\n');
    if (summary.created !== rows) throw new Error(`expected ${rows} created, got ${JSON.stringify(summary)}`);

    // The same documents, built untimed, then written with a plain insertMany into another collection.
    const now = new Date();
    const lines = csv.trim().split('\n');
    const plan = planColumns(lines[0].split(','));
    if ('code' in plan) throw new Error(plan.message);
    const docs = lines.slice(1).map((line) => {
      const r = recordToInput(line.split(','), plan);
      if ('code' in r) throw new Error(r.code);
      const p = prepareContact(r.input, { requireEmail: true });
      if (!p.ok) throw new Error(p.error.code);
      const doc = emptyContact(new Types.ObjectId(), now, 'import');
      return applyPlan(doc, planMerge(doc, p.contact, { keys, now, source: 'import' }));
    });
    const raw = mongoose.connection.collection('bench_raw_contacts');
    const t1 = performance.now();
    for (let i = 0; i < docs.length; i += 1000) await raw.insertMany(docs.slice(i, i + 1000) as never[], { ordered: false });
    const insertMs = performance.now() - t1;

    const importRate = rows / (importMs / 1000);
    const insertRate = rows / (insertMs / 1000);
    console.log(`rows:                 ${rows}`);
    console.log(`import:               ${(importMs / 1000).toFixed(1)} s, ${Math.round(importRate)} rows/s (validate, dedupe lookup, consent records, bulk insert)`);
    console.log(`plain insertMany:     ${(insertMs / 1000).toFixed(1)} s, ${Math.round(insertRate)} rows/s (same documents, no checks)`);
    console.log(`import / insertMany:  ${(importRate / insertRate).toFixed(2)}`);
    await mongoose.connection.dropDatabase();
  } finally {
    await disconnectDatabase();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/**
 * Listing benchmark: `GET /v1/contacts` page by page over N seeded contacts (default 100,000) through the
 * real API on a loopback port, while a writer inserts contacts concurrently (new ids after the seeded
 * ones and ids inside the range already walked). Checks that every seeded contact is listed exactly
 * once and that anything else listed is one of the concurrent inserts; prints the time per page at the
 * start and at the end of the list.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27017/x npx tsx bench/contacts-list.bench.ts [--contacts 100000] [--limit 1000]
 *
 * Works in its own uniquely named database and drops it afterwards. test/integration/api/contacts.test.ts
 * runs the same check with 2,000 contacts.
 */
import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import mongoose, { Types } from 'mongoose';
import { connectDatabase, disconnectDatabase, initDatabase } from '../data/db';
import { ContactModel } from '../data/contact-model';
import { emptyContact } from '../data/contact-merge';
import { createContacts } from '../data/contacts';
import { loadConfig } from '../lib/config';
import { apiPlugin } from '../server/api';

let serial = 0;

/** An ObjectId from an earlier second (random tail), i.e. inside the range a listing already walks. */
export const pastId = (seconds: number) => new Types.ObjectId(seconds.toString(16).padStart(8, '0') + new Types.ObjectId().toHexString().slice(8));

/** Seeds `n` contacts with bulk insertMany (the listing is under test, not the upsert). */
export async function seedContacts(n: number, tag: (i: number) => string = (i) => (i % 2 ? 'odd' : 'even'), newId = () => new Types.ObjectId()): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1000) {
    const docs = Array.from({ length: Math.min(1000, n - i) }, (_, j) => {
      const d = emptyContact(newId(), new Date(), 'seed');
      const k = `${serial++}-${randomBytes(3).toString('hex')}`;
      Object.assign(d, { email: `p${k}@example.com`, emailKey: `p${k}@example.com`, tags: [tag(i + j)], firstName: `P${k}`, erasedAt: null, rev: 0 });
      ids.push(String(d._id));
      return d;
    });
    await ContactModel.collection.insertMany(docs as never[], { ordered: false });
  }
  return ids;
}

export interface ListRun {
  pages: number;
  /** Milliseconds of each page, in order. */
  pageMs: number[];
  seeded: number;
  inserted: number;
  /** Concurrent inserts the listing returned (each once). */
  insertedSeen: number;
  /** Seeded contacts not listed exactly once, and listed ids that are neither seeded nor inserted. */
  missing: string[];
  duplicated: string[];
  unexpected: string[];
}

/**
 * Lists every contact with `get(url)` (a GET on the API, answering status and JSON) while inserting
 * contacts concurrently, and reports what came back. `seeded` are the ids that existed at the start.
 */
export async function listWhileInserting(get: (url: string) => Promise<{ status: number; body: { contacts: { id: string }[]; next: string | null } }>, seeded: string[], opts: { limit: number; batches?: number; batchSize?: number }): Promise<ListRun> {
  const seen = new Map<string, number>();
  let inserting = true;
  const inserted: string[] = [];
  const start = Math.floor(Date.now() / 1000) - 3600;
  // Bounded, so the listing can finish: new ids after the seeded ones, and ids inside the seeded range
  // (timestamps in the past), which land behind or ahead of the cursor.
  const writer = (async () => {
    for (let b = 0; b < (opts.batches ?? 6) && inserting; b++) {
      inserted.push(...(await seedContacts(opts.batchSize ?? 25, () => 'late', b % 2 ? () => pastId(start + Math.floor(Math.random() * 3500)) : undefined)));
    }
  })();
  const pageMs: number[] = [];
  let cursor: string | null = null;
  try {
    do {
      const t0 = performance.now();
      const r = await get(`/v1/contacts?limit=${opts.limit}&fields=tags${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      pageMs.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`page ${pageMs.length} answered ${r.status}`);
      for (const c of r.body.contacts) seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
      cursor = r.body.next;
    } while (cursor && pageMs.length < 100_000);
  } finally {
    inserting = false;
    await writer;
  }
  const seededSet = new Set(seeded);
  const insertedSet = new Set(inserted);
  return {
    pages: pageMs.length, pageMs, seeded: seeded.length, inserted: inserted.length,
    insertedSeen: [...seen.keys()].filter((id) => insertedSet.has(id)).length,
    missing: seeded.filter((id) => !seen.has(id)),
    duplicated: [...seen.entries()].filter(([, n]) => n > 1).map(([id]) => id),
    unexpected: [...seen.keys()].filter((id) => !seededSet.has(id) && !insertedSet.has(id)),
  };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

async function main(): Promise<void> {
  const n = arg('contacts', 100_000);
  const limit = arg('limit', 1000);
  const url = new URL(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/sojourn');
  url.pathname = `/bench_list_${randomBytes(3).toString('hex')}`;
  const config = { ...loadConfig({ ...process.env, SOJOURN_ENV: process.env.SOJOURN_ENV ?? 'development' }), apiKey: 'bench-key' };
  await connectDatabase(url.toString());
  const app = Fastify();
  try {
    await initDatabase();
    const t0 = Date.now();
    const seeded = await seedContacts(n);
    console.log(`seeded ${n.toLocaleString('en')} contacts in ${((Date.now() - t0) / 1000).toFixed(1)} s (untimed)`);
    await app.register(apiPlugin, { config, contacts: createContacts({ secret: config.secret, phoneKey: config.phoneKey }) });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const started = Date.now();
    const run = await listWhileInserting(async (path) => {
      const res = await fetch(base + path, { headers: { authorization: 'Bearer bench-key' } });
      return { status: res.status, body: (await res.json()) as never };
    }, seeded, { limit, batches: 40, batchSize: 100 });
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(', ');
    console.log(`listed ${run.pages} pages of ${limit} in ${((Date.now() - started) / 1000).toFixed(1)} s while ${run.inserted} contacts were inserted (${run.insertedSeen} of them listed)`);
    console.log(`ms per page, first 3: ${fmt(run.pageMs.slice(0, 3))}; last 3: ${fmt(run.pageMs.slice(-3))}; median ${[...run.pageMs].sort((a, b) => a - b)[Math.floor(run.pageMs.length / 2)].toFixed(0)}`);
    console.log(`seeded contacts missing: ${run.missing.length}, listed twice: ${run.duplicated.length}, unexpected: ${run.unexpected.length}`);
    if (run.missing.length || run.duplicated.length || run.unexpected.length) process.exitCode = 1;
  } finally {
    await app.close();
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await disconnectDatabase();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

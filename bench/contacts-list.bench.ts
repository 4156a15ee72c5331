/**
 * Listing benchmark: `GET /v1/contacts` page by page over N seeded contacts (default 100,000) through the
 * real API on a loopback port, while a writer inserts contacts concurrently (new ids after the seeded
 * ones and ids inside the range already walked). Checks that every seeded contact is listed exactly
 * once and that anything else listed is one of the concurrent inserts; prints the time per page at the
 * start and at the end of the list.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27017/x npx tsx bench/contacts-list.bench.ts [--contacts 100000] [--limit 1000]
 *
 * Works in its own uniquely named database and drops it afterwards. The page time at the start and at
 * the end of the same run is the baseline: their ratio stays near 1 when a page costs O(limit).
 * test/integration/api/contacts.test.ts runs the same check with 2,000 contacts (100,000 with
 * `npm run test:list-100k`), test/integration/api/contacts-list-bench.test.ts runs this benchmark small.
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
  const inserted: string[] = [];
  const start = Math.floor(Date.now() / 1000) - 3600;
  // One batch of inserts runs concurrently with each of the first `batches` pages (bounded, so the listing
  // can finish): new ids after the seeded ones, and ids inside the seeded range (timestamps in the past),
  // which land behind or ahead of the cursor.
  const insertBatch = async (b: number) => {
    inserted.push(...(await seedContacts(opts.batchSize ?? 25, () => 'late', b % 2 ? () => pastId(start + Math.floor(Math.random() * 3500)) : undefined)));
  };
  const pageMs: number[] = [];
  let cursor: string | null = null;
  do {
    const writer = pageMs.length < (opts.batches ?? 6) ? insertBatch(pageMs.length) : null;
    const t0 = performance.now();
    const r = await get(`/v1/contacts?limit=${opts.limit}&fields=tags${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    pageMs.push(performance.now() - t0);
    await writer;
    if (r.status !== 200) throw new Error(`page ${pageMs.length} answered ${r.status}`);
    for (const c of r.body.contacts) seen.set(c.id, (seen.get(c.id) ?? 0) + 1);
    cursor = r.body.next;
  } while (cursor && pageMs.length < 100_000);
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

/** Per-page milliseconds at the start and at the end of a listing, and the median: flat when a page costs O(limit). */
export function pageTimes(run: ListRun): { first: number; last: number; median: number; text: string } {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
  const k = Math.max(1, Math.min(5, Math.floor(run.pageMs.length / 4)));
  const first = mean(run.pageMs.slice(1, 1 + k)); // page 1 also pays for connections and the plan cache
  const last = mean(run.pageMs.slice(-k));
  const median = [...run.pageMs].sort((a, b) => a - b)[Math.floor(run.pageMs.length / 2)];
  return { first, last, median, text: `ms per page: pages 2-${1 + k} ${first.toFixed(0)}, last ${k} ${last.toFixed(0)} (ratio ${(last / first).toFixed(2)}), median ${median.toFixed(0)}` };
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/**
 * Seeds `contacts` into a fresh database on `mongoUri`'s server, lists them through the real API while
 * inserting, prints the figures (page time at the start against the end of the same run) and drops the
 * database. Returns the run; the listing is correct when missing, duplicated and unexpected are empty.
 */
export async function runListBench(opts: { contacts: number; limit: number; mongoUri: string; log?: (line: string) => void }): Promise<ListRun> {
  const log = opts.log ?? console.log;
  const { contacts: n, limit } = opts;
  const url = new URL(opts.mongoUri);
  url.pathname = `/bench_list_${randomBytes(3).toString('hex')}`;
  const config = { ...loadConfig({ ...process.env, SOJOURN_ENV: process.env.SOJOURN_ENV ?? 'development' }), apiKey: 'bench-key' };
  await connectDatabase(url.toString());
  const app = Fastify();
  try {
    await initDatabase();
    const t0 = Date.now();
    const seeded = await seedContacts(n);
    log(`seeded ${n.toLocaleString('en')} contacts in ${((Date.now() - t0) / 1000).toFixed(1)} s (bulk insertMany, untimed)`);
    await app.register(apiPlugin, { config, contacts: createContacts({ secret: config.secret, phoneKey: config.phoneKey }) });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const started = Date.now();
    const run = await listWhileInserting(async (path) => {
      const res = await fetch(base + path, { headers: { authorization: 'Bearer bench-key' } });
      return { status: res.status, body: (await res.json()) as never };
    }, seeded, { limit, batches: Math.ceil(n / limit), batchSize: 50 });
    log(`listed ${run.pages} pages of ${limit} in ${((Date.now() - started) / 1000).toFixed(1)} s while ${run.inserted} contacts were inserted (${run.insertedSeen} of them listed)`);
    log(pageTimes(run).text);
    log(`seeded contacts missing: ${run.missing.length}, listed twice: ${run.duplicated.length}, unexpected: ${run.unexpected.length}`);
    return run;
  } finally {
    await app.close();
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await disconnectDatabase();
  }
}

async function main(): Promise<void> {
  const run = await runListBench({ contacts: arg('contacts', 100_000), limit: arg('limit', 1000), mongoUri: process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/sojourn' });
  if (run.missing.length || run.duplicated.length || run.unexpected.length) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

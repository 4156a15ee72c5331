/**
 * Scale benchmark: the cost of every hot-path operation (per event, per send) as the database grows.
 * Seeds contacts, send-ledger rows and events (untimed, bulk `insertMany` in batches) up to `--max`
 * rows each (default 1,000,000; suppressions, frequency windows and used tokens at a tenth of that), one
 * database per size, and at every size of 10k, 100k and 1M that fits times each operation on the real data layer,
 * printing a table and the ratio of the largest size to the smallest (target: at most 1.5).
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27017/x npx tsx bench/scale.bench.ts [--max 1000000] [--repeat 20] [--sizes 10000,100000] [--quiet-load 1.5]
 *
 * Each size is seeded into its own database and warmed up (5 untimed rounds); then the sizes are timed in
 * alternating rounds of every operation, and the load average at the start and end of timing is printed.
 * `--quiet-load X` waits before timing until the machine's 1-minute load average is below X (at most 45
 * minutes).
 *
 * Works in uniquely named databases and drops them afterwards. Every operation checks its answer
 * (the small run in `npm test`, test/integration/engine/scale-bench.test.ts, relies on that).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import mongoose, { Types } from 'mongoose';
import { dataLayerContactStore } from '../activities/contact-store';
import { createGateActivities } from '../activities/gate';
import { connectDatabase, disconnectDatabase, initDatabase } from '../data/db';
import { createContacts } from '../data/contacts';
import { claimLedgerRow, findSendByMessageId, insertLedgerRow, updateLedgerRow } from '../data/send-ledger';
import { takeWindowSlot } from '../data/send-window';
import { isHashSuppressed, suppressionEntry } from '../data/suppression-model';
import { loadConfig } from '../lib/config';
import { messageIdFor } from '../mail/headers';
import { claimToken } from '../data/used-tokens';
import { enqueueOutbox, OutboxModel, removeFromOutbox } from '../data/event-outbox';
import { IdempotencyModel } from '../data/idempotency-model';

export interface ScaleResult {
  sizes: number[];
  /** Operation -> median milliseconds at each size. */
  ms: Record<string, number[]>;
}

const DAY = 86400_000;
const BATCH = 5_000;

const email = (i: number) => `scale${i}@example${i % 97}.com`;
const ledgerKey = (i: number) => `journey/welcome/c${i}:send_welcome:0`;

export const OPERATIONS = [
  'gate decision',
  'ledger claim + complete',
  'frequency-window update',
  'suppression check',
  'event idempotent insert',
  'contact by email key',
  'send by Message-ID',
  'token use',
  'event outbox enqueue + remove',
  'idempotency key claim + replay',
] as const;
type Operation = (typeof OPERATIONS)[number];

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`wrong answer: ${what}`);
}

async function insertBatches(coll: string, from: number, to: number, make: (i: number) => Record<string, unknown>): Promise<void> {
  const c = mongoose.connection.collection(coll);
  for (let start = from; start < to; start += BATCH) {
    const docs = [];
    for (let i = start; i < Math.min(to, start + BATCH); i++) docs.push(make(i));
    await c.insertMany(docs as never[], { ordered: false });
  }
}

/**
 * Runs the benchmark. Every size gets its own database (`use(size)` connects the process to it, the
 * first time empty), seeded in full; then the sizes are timed in alternating rounds (each round: every
 * operation once on each size, after an untimed visit that warms the connection), so a change in the
 * machine's load during the run touches every size alike and the ratios compare like with like.
 * `log` receives progress lines.
 */
export async function runScaleBench(opts: {
  sizes: number[]; repeat: number; secret: string; phoneKey: string; log?: (line: string) => void;
  /** Connects the process's database layer to the database of this size. */
  use: (size: number) => Promise<void>;
  /** Awaited after seeding and warming up every size, before timing (the CLI waits for a quiet machine here). */
  beforeTiming?: () => Promise<void>;
}): Promise<ScaleResult> {
  const log = opts.log ?? (() => undefined);
  const contacts = createContacts({ secret: opts.secret, phoneKey: opts.phoneKey });
  const gate = createGateActivities({ contacts: dataLayerContactStore(), templates: () => ({ welcome: { id: 'welcome', marketing: true, topic: 'news' } }) });
  const now = new Date();
  const settings = { defaultTimezone: 'UTC', frequency: { max: 1000, perMs: 7 * DAY } };
  const opsBySize = new Map<number, Record<Operation, (r: number) => Promise<void>>>();

  for (const size of opts.sizes) {
    await opts.use(size);
    const t0 = Date.now();
    const contactIds: Types.ObjectId[] = Array.from({ length: size }, () => new Types.ObjectId());
    await insertBatches('contacts', 0, size, (i) => ({
      _id: contactIds[i], email: email(i), emailKey: email(i), emailDomain: `example${i % 97}.com`,
      emailFlags: { role: false, disposable: false, alias: false, idn: false }, emailStatus: 'verified', emailStatusAt: null, emailVerifiedAt: null,
      nextVerificationAt: null, phones: [], phoneIndex: [], firstName: `F${i}`, timezone: 'UTC', tags: [], attributes: {},
      consent: { email: { status: 'subscribed', recordId: null, at: now }, sms: { status: 'unknown', recordId: null, at: null }, phone: { status: 'unknown', recordId: null, at: null } },
      doubleOptIn: { state: 'none', requestedAt: null, confirmedAt: null }, classification: {},
      engagement: { opens: 0, clicks: 0, orders: 0, revenue: 0, lastOpenAt: null, lastClickAt: null, lastOrderAt: null, appliedEventIds: [] },
      lastActivityAt: null, createdAt: now, updatedAt: now, erasedAt: null, rev: 0,
    }));
    await insertBatches('sends', 0, size, (i) => ({
      _id: ledgerKey(i), key: ledgerKey(i), workflowId: `journey/welcome/c${i}`, contactId: String(contactIds[i]), journeyId: 'welcome', stepId: 'send_welcome',
      templateId: 'welcome', templateVersion: null, marketing: true, status: 'sent', messageId: messageIdFor(ledgerKey(i), 'scale.test'),
      createdAt: new Date(now.getTime() - 30 * DAY), smtpStartedAt: null, sentAt: now, attempt: 1, smtpCode: 250, error: null, note: null,
    }));
    await insertBatches('contact_keys', 0, size, (i) => ({ _id: `e:${email(i)}`, c: contactIds[i] }));
    await insertBatches('idempotency_keys', 0, size, (i) => ({ _id: `seed-idem-${i}`, fingerprint: 'f', state: 'done', status: 201, contentType: 'application/json', body: '{}', createdAt: now }));
    await insertBatches('send_refs', 0, size, (i) => ({ _id: messageIdFor(ledgerKey(i), 'scale.test'), key: ledgerKey(i) }));
    await insertBatches('contact_events', 0, size, (i) => ({
      _id: `seed-${i}`, eventId: `seed-${i}`, contactId: String(contactIds[i]), name: 'order.completed', at: now, data: { amount: 1 }, machine: false,
      receivedAt: now, appliedAt: now, dispatchedAt: now,
    }));
    const tenth = (n: number) => Math.floor(n / 10);
    await insertBatches('suppressions', 0, tenth(size), (i) => suppressionEntry(contacts.suppressionKey(email(i * 10)), 'hard_bounce', now) as never);
    await insertBatches('send_windows', 0, tenth(size), (i) => ({ _id: String(contactIds[i * 10 + 1]), n: 1 }));
    await insertBatches('send_slots', 0, tenth(size), (i) => ({ _id: `${String(contactIds[i * 10 + 1])}#1`, k: `old-${i}`, at: now }));
    await insertBatches('used_tokens', 0, tenth(size), (i) => ({ _id: `seed-token-${i}`, purpose: 'confirm', contactId: String(contactIds[i]), usedAt: now, expiresAt: now }));
    log(`seeded ${size.toLocaleString('en')} contacts, ledger rows and events in ${((Date.now() - t0) / 1000).toFixed(1)} s (untimed)`);

    let run = 0; // keys of writes: warm-up rounds use run 1, timed rounds run 0
    const pick = (r: number) => (r * 7919 + size - 1) % size; // spread over the whole range, the newest row included
    const ops: Record<Operation, (r: number) => Promise<void>> = {
      'gate decision': async (r) => {
        const i = pick(r);
        const d = await gate.gateSend({ contactId: String(contactIds[i]), journeyId: 'welcome', stepId: 'gate', templateId: 'welcome', marketing: true, topic: 'news', key: `gate-${run}-${r}`, settings });
        check(JSON.stringify(d) === JSON.stringify(i % 10 === 0 ? { outcome: 'skip', reason: 'suppressed' } : { outcome: 'send' }), `gate decision for contact ${i}: ${JSON.stringify(d)}`);
      },
      'ledger claim + complete': async (r) => {
        const key = `bench-${run}-${r}`;
        const fresh = await insertLedgerRow({
          key, workflowId: 'journey/bench/c', contactId: String(contactIds[pick(r)]), journeyId: 'bench', stepId: 'send', templateId: 'welcome', templateVersion: null,
          marketing: true, status: 'pending', messageId: messageIdFor(key, 'scale.test'), createdAt: new Date(), smtpStartedAt: null, sentAt: null, attempt: 1, smtpCode: null, error: null, note: null,
        });
        const claim = await claimLedgerRow(key, new Date(), 1);
        await updateLedgerRow(key, { status: 'sent', sentAt: new Date(), smtpCode: 250 });
        const again = await claimLedgerRow(key, new Date(), 2);
        check(fresh && claim.won && !again.won && again.previous?.status === 'sent', `ledger claim of ${key}`);
      },
      'frequency-window update': async (r) => {
        const ok = await takeWindowSlot(String(contactIds[pick(r)]), `win-${run}-${r}`, new Date(), 1000, 7 * DAY);
        check(ok, 'a free slot is given');
      },
      'suppression check': async (r) => {
        const i = pick(r);
        const hit = await isHashSuppressed(contacts.suppressionKey(email(i)), true);
        check(hit === (i % 10 === 0), `suppression of address ${i}`);
      },
      'event idempotent insert': async (r) => {
        const i = pick(r);
        const eventId = `bench-${run}-${r}`;
        const first = await contacts.recordEvent({ eventId, contactId: String(contactIds[i]), name: 'custom.bench', data: {} });
        const again = await contacts.recordEvent({ eventId, contactId: String(contactIds[i]), name: 'custom.bench', data: {} });
        check(!first.duplicate && again.duplicate, `event ${eventId} stored once`);
      },
      'contact by email key': async (r) => {
        const i = pick(r);
        const doc = await contacts.findByEmail(email(i).toUpperCase());
        check(doc !== null && String(doc._id) === String(contactIds[i]), `contact by email ${i}`);
      },
      'send by Message-ID': async (r) => {
        const i = pick(r);
        const row = await findSendByMessageId(messageIdFor(ledgerKey(i), 'scale.test'));
        check(row?.key === ledgerKey(i), `send by Message-ID ${i}`);
      },
      'token use': async (r) => {
        const tokenId = `bench-token-${run}-${r}`;
        const first = await claimToken({ tokenId, purpose: 'confirm', contactId: 'c', expiresAt: new Date(Date.now() + DAY) });
        const replay = await claimToken({ tokenId, purpose: 'confirm', contactId: 'c', expiresAt: new Date(Date.now() + DAY) });
        const seededReplay = await claimToken({ tokenId: `seed-token-${pick(r) % Math.max(1, tenth(size))}`, purpose: 'confirm', contactId: 'c', expiresAt: new Date() });
        check(first && !replay && !seededReplay, `token ${tokenId} used once`);
      },
      'event outbox enqueue + remove': async (r) => {
        const eventId = `outbox-${run}-${r}`;
        await enqueueOutbox({ eventId, contactId: String(contactIds[pick(r)]), name: 'custom.bench', at: new Date(), data: {} }, new Date(), new Date());
        const queued = await OutboxModel.collection.findOne({ _id: eventId } as never);
        await removeFromOutbox(eventId);
        check(queued !== null && (await OutboxModel.collection.findOne({ _id: eventId } as never)) === null, `outbox entry ${eventId} queued and removed`);
      },
      'idempotency key claim + replay': async (r) => {
        // What the API's Idempotency-Key hook does (server/api/idempotency.ts): claim by insert, finish, replay by _id.
        const _id = `bench-idem-${run}-${r}`;
        await IdempotencyModel.collection.insertOne({ _id, fingerprint: 'f', state: 'pending', status: null, contentType: null, body: null, createdAt: new Date() } as never);
        await IdempotencyModel.collection.updateOne({ _id } as never, { $set: { state: 'done', status: 201, body: '{}' } });
        const replay = await IdempotencyModel.collection.findOne({ _id } as never);
        const seededReplay = await IdempotencyModel.collection.findOne({ _id: `seed-idem-${pick(r)}` } as never);
        check(replay?.state === 'done' && seededReplay?.status === 201, `idempotency key ${_id}`);
      },
    };
    opsBySize.set(size, ops);
    // Untimed warm-up: the first reads after a bulk insert page the new index and table pages in;
    // the hot path's cost is the steady one.
    run = 1;
    for (const op of OPERATIONS) for (let r = 0; r < Math.min(5, opts.repeat); r++) await ops[op](r);
    run = 0;
  }

  await opts.beforeTiming?.();
  const times = new Map(opts.sizes.map((size) => [size, Object.fromEntries(OPERATIONS.map((o) => [o, [] as number[]]))]));
  const load0 = os.loadavg()[0];
  for (let r = 0; r < opts.repeat; r++) {
    for (const size of opts.sizes) {
      await opts.use(size);
      const ops = opsBySize.get(size)!;
      await ops['suppression check'](r); // untimed: the connection's first command after switching
      for (const op of OPERATIONS) {
        const s = performance.now();
        await ops[op](r);
        times.get(size)![op].push(performance.now() - s);
      }
    }
  }
  const ms: Record<string, number[]> = Object.fromEntries(OPERATIONS.map((o) => [o, []]));
  for (const size of opts.sizes) {
    for (const op of OPERATIONS) {
      const sorted = times.get(size)![op].sort((a, b) => a - b);
      ms[op].push(sorted[Math.floor(sorted.length / 2)]);
      log(`  ${size.toLocaleString('en')}: ${op} ${ms[op][ms[op].length - 1].toFixed(2)} ms (median of ${opts.repeat})`);
    }
  }
  log(`timed in ${opts.repeat} rounds over ${opts.sizes.length} sizes; load average ${load0.toFixed(2)} at the start of timing, ${os.loadavg()[0].toFixed(2)} at the end`);
  return { sizes: opts.sizes, ms };
}

/** The result as a table: one row per operation, one column per size, and the largest/smallest ratio. */
export function formatScaleTable(r: ScaleResult): string {
  const label = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1000 ? `${n / 1000}k` : String(n));
  const head = ['operation (median ms)', ...r.sizes.map(label), `${label(r.sizes[r.sizes.length - 1])}/${label(r.sizes[0])}`];
  const rows = Object.entries(r.ms).map(([op, v]) => [op, ...v.map((x) => x.toFixed(2)), (v[v.length - 1] / v[0]).toFixed(2)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`, ...rows.map(line)].join('\n');
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/**
 * A `use` for runScaleBench: one database per size next to `baseUri` (named `<prefix>_<size>`), the
 * process's mongoose connection moved between them; `drop()` removes them all.
 */
export function databasePerSize(baseUri: string, prefix: string): { use: (size: number) => Promise<void>; drop: () => Promise<void> } {
  const uriOf = (size: number) => {
    const url = new URL(baseUri);
    url.pathname = `/${prefix}_${size}`;
    return url.toString();
  };
  const made = new Set<number>();
  let current: number | null = null;
  const use = async (size: number) => {
    if (current === size && mongoose.connection.readyState === 1) return;
    await disconnectDatabase();
    await connectDatabase(uriOf(size));
    current = size;
    if (!made.has(size)) {
      made.add(size);
      await initDatabase();
    }
  };
  const drop = async () => {
    for (const size of made) {
      await use(size);
      await mongoose.connection.dropDatabase().catch(() => undefined);
    }
    await disconnectDatabase();
  };
  return { use, drop };
}

async function main(): Promise<void> {
  const max = Number(arg('max') ?? 1_000_000);
  const sizes = (arg('sizes')?.split(',').map(Number) ?? [10_000, 100_000, 1_000_000]).filter((n) => n <= max).sort((a, b) => a - b);
  if (!sizes.length) throw new Error('no size to run: --max is below 10,000 (use --sizes)');
  // A benchmark on throw-away data: development mode (local secrets) unless told otherwise.
  process.env.SOJOURN_ENV ??= 'development';
  const cfg = loadConfig();
  // --quiet-load X: before timing, wait (up to 45 min) until the 1-minute load average is below X.
  const quiet = arg('quiet-load') === undefined ? null : Number(arg('quiet-load'));
  const beforeTiming = async () => {
    const until = Date.now() + 45 * 60_000;
    while (quiet !== null && os.loadavg()[0] >= quiet && Date.now() < until) {
      console.log(`waiting for a load average below ${quiet} (now ${os.loadavg()[0].toFixed(2)})`);
      await new Promise((r) => setTimeout(r, 15_000));
    }
  };
  const base = process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/sojourn';
  const dbs = databasePerSize(base, `bench_scale_${randomBytes(3).toString('hex')}`);
  try {
    const started = Date.now();
    const result = await runScaleBench({ sizes, repeat: Number(arg('repeat') ?? 20), secret: cfg.secret, phoneKey: cfg.phoneKey, log: (l) => console.log(l), use: dbs.use, beforeTiming });
    console.log(`\n${formatScaleTable(result)}\n\n${new URL(base).host}, ${((Date.now() - started) / 1000).toFixed(0)} s in total`);
  } finally {
    await dbs.drop();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

/**
 * Report benchmark: the time of one journey report (GET /v1/reports/journeys/{id}'s code,
 * engine/journey-report.ts) as the ledger grows. Seeds send-ledger rows keyed by `_id` like the ledger's
 * own and as many counted-fact marks (untimed, bulk inserts), plus 30 days of counters for two versions
 * of a journey, and at each size times the 30-day report (median of --repeat), printing the ratio of the
 * largest size to the smallest (target: at most 1.5; the report reads counters by `_id`, never the ledger).
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27017/x npx tsx bench/report.bench.ts [--sizes 10000,1000000] [--repeat 20]
 *
 * Works in its own uniquely named database and drops it afterwards. Every report is checked.
 */
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { connectDatabase, disconnectDatabase, initDatabase } from '../data/db';
import { JourneyStatModel, statId } from '../data/journey-stats';
import { saveJourneyVersion } from '../data/journey-versions';
import { journeyReport, reportDays } from '../engine/journey-report';
import { PLAN_FORMAT, type JourneyPlan } from '../rules/plan';

const BATCH = 5_000;
const NOW = new Date('2026-06-30T12:00:00Z');

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

async function insertBatches(coll: string, from: number, to: number, make: (i: number) => Record<string, unknown>): Promise<void> {
  const c = mongoose.connection.collection(coll);
  for (let start = from; start < to; start += BATCH) {
    const docs = [];
    for (let i = start; i < Math.min(to, start + BATCH); i++) docs.push(make(i));
    await c.insertMany(docs as never[], { ordered: false });
  }
}

function benchPlan(hash: string): JourneyPlan {
  const steps = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`s${i}`, { id: `s${i}`, kind: 'send', template: 'welcome', marketing: true, next: i < 11 ? `s${i + 1}` : null }])) as JourneyPlan['steps'];
  return {
    planFormat: PLAN_FORMAT, journeyId: 'bench', name: 'Bench', hash, trigger: { kind: 'event', event: 'contact.created' }, entry: { kind: 'once' },
    goal: { event: 'order.completed', withinMs: 30 * 86_400_000 }, settings: { defaultTimezone: 'UTC' }, start: 's0', steps,
    templates: { welcome: { id: 'welcome', marketing: true } }, segments: {}, ruleSets: {},
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runReportBench(opts: { sizes: number[]; repeat: number; log?: (l: string) => void }): Promise<{ sizes: number[]; ms: number[] }> {
  const log = opts.log ?? (() => undefined);
  for (const h of ['h1', 'h2']) await saveJourneyVersion(benchPlan(h), h);
  const days = reportDays(NOW, 30);
  for (const version of [1, 2]) {
    for (const day of days) {
      const s = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`s${i}`, { sent: 100, opened: 40, clicked: 10, skip_no_consent: 2, defer_quiet_hours: 5 }]));
      await JourneyStatModel.collection.insertOne({ _id: statId('bench', version, day), journeyId: 'bench', version, day, j: { entered: 100, end_converted: 7 }, s } as never);
    }
  }
  const ms: number[] = [];
  let seeded = 0;
  for (const size of opts.sizes) {
    const t0 = Date.now();
    await insertBatches('sends', seeded, size, (i) => ({
      _id: `journey/bench/c${i}:s${i % 12}:0`, key: `journey/bench/c${i}:s${i % 12}:0`, workflowId: `journey/bench/c${i}`, contactId: `c${i}`, journeyId: 'bench',
      stepId: `s${i % 12}`, templateId: 'welcome', marketing: true, status: 'sent', messageId: `<m${i}@bench>`, createdAt: NOW, sentAt: NOW, attempt: 1, version: 1 + (i % 2),
    }));
    await insertBatches('journey_stat_marks', seeded, size, (i) => ({ _id: `sent|journey/bench/c${i}:s${i % 12}:0`, at: NOW }));
    seeded = size;
    log(`seeded ${size.toLocaleString('en')} ledger rows and marks in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    const times: number[] = [];
    for (let k = 0; k < opts.repeat; k++) {
      const start = process.hrtime.bigint();
      const r = await journeyReport('bench', { sinceDays: 30, now: NOW });
      times.push(Number(process.hrtime.bigint() - start) / 1e6);
      if (!r.found || r.report.totals.entered !== 6000 || r.report.totals.sent !== 72_000) throw new Error('wrong report');
    }
    ms.push(median(times));
    log(`report at ${size.toLocaleString('en')} ledger rows: median ${median(times).toFixed(1)} ms over ${opts.repeat}`);
  }
  return { sizes: opts.sizes, ms };
}

async function main(): Promise<void> {
  const sizes = (arg('sizes')?.split(',').map(Number) ?? [10_000, 1_000_000]).sort((a, b) => a - b);
  const url = new URL(process.env.MONGODB_URI ?? 'mongodb://127.0.0.1:27017/sojourn');
  url.pathname = `/bench_report_${randomBytes(3).toString('hex')}`;
  await connectDatabase(url.toString());
  try {
    await initDatabase();
    const r = await runReportBench({ sizes, repeat: Number(arg('repeat') ?? 20), log: (l) => console.log(l) });
    console.log('\n| ledger rows | report (30 days, 2 versions, 12 steps), median ms |\n|---:|---:|');
    r.sizes.forEach((s, i) => console.log(`| ${s.toLocaleString('en')} | ${r.ms[i].toFixed(1)} |`));
    console.log(`\nratio ${r.sizes.at(-1)!.toLocaleString('en')} / ${r.sizes[0].toLocaleString('en')}: ${(r.ms.at(-1)! / r.ms[0]).toFixed(2)} (target <= 1.5)`);
  } finally {
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

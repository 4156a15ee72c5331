/**
 * Audience scan benchmark: N contacts (default 1,000,000), of which every 10th is in the segment, and
 * a journey whose trigger is a schedule with that audience, deployed with `sojourn deploy`'s code
 * (engine/deploy.ts). The scan is started the way the product starts it: the journey's Temporal
 * Schedule (`sojourn/<journey>/audience`) is triggered, and it runs the `audienceScan` workflow on a
 * `sojourn worker` process. While it runs, the scan's progress query is printed (pages, contacts
 * scanned, matched, runs started, rate, ETA, the worker's RSS); at the end: the total time, runs
 * started against the number of contacts in the segment (checked, and counted again through Temporal's
 * visibility), the worker's RSS at start, peak and end, and contacts scanned per second. The journey's
 * runs wait 30 days at their first step, so the figure is the scan and the starts, not the runs.
 *
 *   npx tsx bench/audience.bench.ts [--contacts 1000000] [--match-every 10] [--page-size 500] [--concurrency 20]
 *
 * Starts what it needs on free ports as `npm start` does: FerretDB on PostgreSQL (SOJOURN_DB_BACKEND
 * picks SQLite) with a throw-away data folder, unless MONGODB_URI names a database server; the Temporal
 * dev server, unless TEMPORAL_ADDRESS names one; and `sojourn worker` as its own process (its memory is
 * what is measured). Seeding is untimed (bulk insertMany in batches of 1,000) and works in a uniquely
 * named database dropped afterwards. On FerretDB over PostgreSQL it also prints PostgreSQL's own
 * counters for the contacts table around the scan (rows read by scans: 0 when every page is an `_id`
 * index range); with MONGODB_URI, SOJOURN_BENCH_POSTGRES_URL names that PostgreSQL for the same figures.
 * On a Temporal server of your own (TEMPORAL_ADDRESS) the started runs stay behind, waiting on a task
 * queue of their own (`audience-<hex>`) that no worker polls; the bench's own dev server is thrown away.
 * test/integration/engine/audience-bench.test.ts runs it with 2,000 contacts and checks every run.
 */
process.env.SOJOURN_ENV ??= 'development';

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import mongoose from 'mongoose';
import { Client as PgClient } from 'pg';
import { Connection, type Client } from '@temporalio/client';
import { connectDatabase, disconnectDatabase, initDatabase } from '../data/db';
import { loadConfig } from '../lib/config';
import { createTemporalClient } from '../lib/temporal-connection';
import { deployJourneys } from '../engine/deploy';
import { SEARCH_ATTRIBUTES } from '../engine/search-attributes';
import { audienceScheduleId } from '../engine/schedules';
import { audienceScanStatus, formatScanStatus } from '../engine/scan-status';
import { SOJOURN_CONTACT } from '../workflows/search-attributes';
import { dbBackend, freePort, spawnServer, startEmbeddedDatabase, startTemporalDev, waitForPort, type RunningServer } from '../scripts/servers';
import { provision } from '../scripts/provision';
import { seedContacts } from './contacts-list.bench';
import { groupRss } from './load.bench';

const root = path.resolve(__dirname, '..');
/**
 * The benchmark's journey: a yearly schedule (triggered here) over the "vip" tag; each run waits 30 days.
 * Its id is unique per run, so a Temporal server used before (TEMPORAL_ADDRESS) holds no runs or
 * schedule of it; the schedule is deleted at the end.
 */
const journeyYaml = (journeyId: string) => `journey: ${journeyId}
name: Audience scan benchmark
trigger:
  schedule:
    cron: "0 3 1 1 *"
    timezone: UTC
    audience: '"vip" in contact.tags'
entry: once
steps:
  - id: wait_a_month
    wait: 30d
`;

export interface AudienceBenchOptions {
  contacts: number;
  /** Every `matchEvery`-th seeded contact is in the segment (default 10: about 10%). */
  matchEvery?: number;
  /** Contacts read per page and runs started at once per page (the schedule's defaults when absent). */
  pageSize?: number;
  concurrency?: number;
  /** How often progress is printed (default 5 s). */
  progressEveryMs?: number;
  /** List every run through visibility and compare contact ids with the segment's (small runs only). */
  verifyIds?: boolean;
  log?: (line: string) => void;
}

export interface RssFigures { start: number; peak: number; end: number }

export interface AudienceBenchResult {
  contacts: number;
  /** Contacts seeded into the segment: the runs the scan must start. */
  expected: number;
  totals: { pages: number; scanned: number; matched: number; started: number; alreadyEntered: number };
  seconds: number;
  scannedPerSec: number;
  /**
   * Contacts scanned per second over the first and the last quarter of the contacts (from the progress
   * samples): the baseline in the same run, their ratio near 1 when a page costs the same at the end of
   * the collection as at its start. Null when too few samples were taken.
   */
  quarters: { first: number; last: number } | null;
  /** Runs of the journey that Temporal's visibility counts once the scan is over. */
  runsCounted: number;
  /** With verifyIds: segment members without a run, runs of contacts outside the segment, contacts with two runs. */
  ids?: { missing: string[]; unexpected: string[]; duplicated: string[] };
  /** The worker process's resident memory (bytes). */
  rss: RssFigures;
  progressLines: number;
  /** PostgreSQL's counters for the contacts table over the scan, when the database is FerretDB on PostgreSQL. */
  postgres: { rowsReadByScans: number; rowsFetchedThroughIndex: number } | null;
  /** What did not hold (empty when every check passed). */
  failures: string[];
}

const MB = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
const fmt = (n: number) => n.toLocaleString('en-US');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** PostgreSQL's counters for the table behind a FerretDB collection (schema = database, table `<collection>_<hash>`). */
async function contactTableReads(postgresUrl: string, database: string): Promise<{ seqRowsRead: number; indexRowsFetched: number }> {
  const pg = new PgClient({ connectionString: postgresUrl.split('?')[0] });
  await pg.connect();
  try {
    // An idle backend reports what its queries read within 10 s (PGSTAT_IDLE_INTERVAL): read once settled.
    await sleep(11_000);
    const r = await pg.query<{ seq_tup_read: string; idx_tup_fetch: string }>(
      'SELECT seq_tup_read, coalesce(idx_tup_fetch, 0) AS idx_tup_fetch FROM pg_stat_user_tables WHERE schemaname = $1 AND relname ~ $2',
      [database, '^contacts_[0-9a-f]{8}$'],
    );
    if (r.rows.length !== 1) throw new Error(`expected one contacts table in schema ${database}, found ${r.rows.length}`);
    return { seqRowsRead: Number(r.rows[0].seq_tup_read), indexRowsFetched: Number(r.rows[0].idx_tup_fetch) };
  } finally {
    await pg.end();
  }
}

/** The scan workflow the schedule started: its workflow id (the schedule appends the start time). */
async function scheduledScan(client: Client, scheduleId: string, timeoutMs = 60_000): Promise<string> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = await client.schedule.getHandle(scheduleId).describe();
    const running = d.info.runningActions[0] ?? d.info.recentActions[d.info.recentActions.length - 1]?.action;
    if (running) return running.workflow.workflowId;
    if (Date.now() > until) throw new Error(`schedule ${scheduleId} started no scan within ${timeoutMs / 1000} s`);
    await sleep(200);
  }
}

/** Runs of the benchmark journey that visibility counts, polled until it reaches `expected` or stops moving. */
async function countRuns(client: Client, journeyId: string, expected: number): Promise<number> {
  let last = -1;
  let still = 0;
  for (;;) {
    const { count } = await client.workflow.count(`SojournJourney = "${journeyId}"`);
    if (count === expected) return count;
    still = count === last ? still + 1 : 0;
    if (still >= 30) return count;
    last = count;
    await sleep(1000);
  }
}

/**
 * Runs the benchmark on a database server (`mongoUri`, a fresh database on it is used and dropped) and
 * a Temporal server (`temporalAddress`), with `sojourn worker` spawned here.
 */
export async function runAudienceBench(opts: AudienceBenchOptions & { mongoUri: string; temporalAddress: string; postgresUrl?: string | null }): Promise<AudienceBenchResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const matchEvery = opts.matchEvery ?? 10;
  const url = new URL(opts.mongoUri);
  const database = `bench_audience_${randomBytes(3).toString('hex')}`;
  url.pathname = `/${database}`;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-audience-'));
  const taskQueue = `audience-${randomBytes(3).toString('hex')}`;
  const journeyId = `audience_bench_${randomBytes(3).toString('hex')}`;
  let scheduleCreated = false;
  let worker: RunningServer | null = null;
  let connection: Connection | null = null;
  await connectDatabase(url.toString());
  try {
    await initDatabase();
    // Seed (untimed): every matchEvery-th contact carries the segment's tag.
    const t0 = performance.now();
    const members = new Set<string>();
    let seeded = 0;
    for (let i = 0; i < opts.contacts; i += 10_000) {
      const n = Math.min(10_000, opts.contacts - i);
      const ids = await seedContacts(n, (j) => ((i + j) % matchEvery === 0 ? 'vip' : 'regular'));
      ids.forEach((id, j) => { if ((i + j) % matchEvery === 0) members.add(id); });
      seeded += n;
      if (seeded % 100_000 === 0 || seeded === opts.contacts) log(`seeded ${fmt(seeded)} / ${fmt(opts.contacts)} contacts (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
    }

    // The worker as the product runs it: `sojourn worker`, its own process (what is measured).
    const healthPort = await freePort();
    worker = spawnServer('sojourn worker', process.execPath, [require.resolve('tsx/cli'), path.join(root, 'cli', 'main.ts'), 'worker'], {
      cwd: root, logFile: path.join(tmp, 'worker.log'),
      env: { MONGODB_URI: url.toString(), TEMPORAL_ADDRESS: opts.temporalAddress, TASK_QUEUE: taskQueue, HEALTH_PORT: String(healthPort), SOJOURN_ENV: process.env.SOJOURN_ENV, LOG_LEVEL: 'warn' },
    });
    await waitForPort('sojourn worker', healthPort, worker.child, 180_000);
    const workerRss = () => groupRss(worker!.child.pid!);

    // Deploy with `sojourn deploy`'s code: stores the plan and registers the journey's schedule.
    connection = await Connection.connect({ address: opts.temporalAddress });
    const client = createTemporalClient(connection, loadConfig());
    const journeyFile = path.join(tmp, `${journeyId}.yaml`);
    fs.writeFileSync(journeyFile, journeyYaml(journeyId));
    const deployed = await deployJourneys([journeyFile], { client, taskQueue, templatesDir: path.join(root, 'templates') });
    if (!deployed.ok) throw new Error(`the benchmark journey does not deploy:\n${deployed.messages.join('\n')}`);
    if (deployed.journeys[0]?.schedule !== 'created') throw new Error(`${journeyId} deployed without a new schedule (${deployed.journeys[0]?.schedule})`);
    scheduleCreated = true;
    const scheduleId = audienceScheduleId(journeyId);
    // Page size and concurrency other than the product's defaults go into the schedule's action, as an operator would set them.
    if (opts.pageSize !== undefined || opts.concurrency !== undefined) {
      await client.schedule.getHandle(scheduleId).update((prev) => {
        const action = prev.action as typeof prev.action & { args?: Record<string, unknown>[] };
        return { ...prev, action: { ...action, args: [{ ...(action.args?.[0] ?? {}), ...(opts.pageSize !== undefined ? { pageSize: opts.pageSize } : {}), ...(opts.concurrency !== undefined ? { concurrency: opts.concurrency } : {}) }] } } as typeof prev;
      });
    }

    const before = opts.postgresUrl ? await contactTableReads(opts.postgresUrl, database) : null;
    const rss: RssFigures = { start: workerRss(), peak: 0, end: 0 };
    rss.peak = rss.start;
    log(`${fmt(opts.contacts)} contacts, ${fmt(members.size)} in the segment; worker RSS at start ${MB(rss.start)}; triggering schedule ${scheduleId}`);

    // Start the scan the way the schedule does on its cron: trigger it now.
    const started = performance.now();
    await client.schedule.getHandle(scheduleId).trigger();
    const scanId = await scheduledScan(client, scheduleId);
    const scan = client.workflow.getHandle(scanId);
    let progressLines = 0;
    let last = { at: started, scanned: 0 };
    const samples: { at: number; scanned: number }[] = [{ at: started, scanned: 0 }];
    const sampler = setInterval(() => { rss.peak = Math.max(rss.peak, workerRss()); }, 1000);
    // Progress as `sojourn status <journey>` reads it: the schedule's scan and its scanProgress query.
    const report = async () => {
      const p = await audienceScanStatus(client, journeyId);
      if (!p) return;
      const now = performance.now();
      const mem = workerRss();
      rss.peak = Math.max(rss.peak, mem);
      const rate = (p.scanned / (now - started)) * 1000;
      const recent = ((p.scanned - last.scanned) / (now - last.at)) * 1000;
      last = { at: now, scanned: p.scanned };
      samples.push(last);
      const eta = rate > 0 ? (opts.contacts - p.scanned) / rate : NaN;
      progressLines++;
      log(`[${((now - started) / 1000).toFixed(0)} s] pages ${fmt(p.pages)}, scanned ${fmt(p.scanned)} / ${fmt(opts.contacts)} (${((p.scanned / opts.contacts) * 100).toFixed(1)}%), matched ${fmt(p.matched)}, started ${fmt(p.started)}, ${rate.toFixed(0)} contacts/s (last interval ${recent.toFixed(0)}), ETA ${Number.isFinite(eta) ? `${eta.toFixed(0)} s` : '-'}, worker RSS ${MB(mem)}`);
    };
    // One query at a time (a slow worker answers late), none once the scan is over.
    let inFlight: Promise<void> | null = null;
    const ticker = setInterval(() => {
      inFlight ??= report().catch(() => undefined).finally(() => { inFlight = null; });
    }, opts.progressEveryMs ?? 5000);
    let result: Awaited<ReturnType<typeof scan.result>>;
    try {
      result = await scan.result();
    } finally {
      clearInterval(ticker);
      clearInterval(sampler);
      await inFlight;
    }
    const seconds = (performance.now() - started) / 1000;
    rss.end = workerRss();
    rss.peak = Math.max(rss.peak, rss.end);
    await report();
    const final = await audienceScanStatus(client, journeyId);
    if (!final || final.workflowId !== scanId || !final.done) throw new Error(`the scan's status after its end: ${JSON.stringify(final)}`);
    log(`sojourn status ${journeyId}:${formatScanStatus(final).replace(/^ +/, ' ')}`);
    const totals = { pages: final.pages, scanned: result?.scanned ?? 0, matched: result?.matched ?? 0, started: result?.started ?? 0, alreadyEntered: result?.alreadyEntered ?? 0 };

    samples.push({ at: started + seconds * 1000, scanned: totals.scanned });
    const runsCounted = await countRuns(client, journeyId, members.size);
    let ids: AudienceBenchResult['ids'];
    if (opts.verifyIds) {
      const seen = new Map<string, number>();
      for await (const w of client.workflow.list({ query: `SojournJourney = "${journeyId}"` })) {
        const c = String(w.typedSearchAttributes.get(SOJOURN_CONTACT));
        seen.set(c, (seen.get(c) ?? 0) + 1);
      }
      ids = {
        missing: [...members].filter((c) => !seen.has(c)),
        unexpected: [...seen.keys()].filter((c) => !members.has(c)),
        duplicated: [...seen].filter(([, n]) => n > 1).map(([c]) => c),
      };
    }
    const after = opts.postgresUrl ? await contactTableReads(opts.postgresUrl, database) : null;
    const postgres = before && after ? { rowsReadByScans: after.seqRowsRead - before.seqRowsRead, rowsFetchedThroughIndex: after.indexRowsFetched - before.indexRowsFetched } : null;

    const failures: string[] = [];
    if (totals.scanned !== opts.contacts) failures.push(`scanned ${totals.scanned} contacts, seeded ${opts.contacts}`);
    if (totals.matched !== members.size) failures.push(`matched ${totals.matched}, the segment has ${members.size}`);
    // A page retried after a worker or heartbeat timeout finds the runs its first attempt started: "already entered".
    if (totals.started + totals.alreadyEntered !== members.size) failures.push(`started ${totals.started} runs (${totals.alreadyEntered} already entered), the segment has ${members.size}`);
    if (runsCounted !== members.size) failures.push(`Temporal counts ${runsCounted} runs of ${journeyId}, the segment has ${members.size}`);
    if (ids && (ids.missing.length || ids.unexpected.length || ids.duplicated.length)) failures.push(`runs by contact: ${ids.missing.length} members without a run, ${ids.unexpected.length} runs outside the segment, ${ids.duplicated.length} contacts with two`);

    const r: AudienceBenchResult = {
      contacts: opts.contacts, expected: members.size, totals, seconds, scannedPerSec: totals.scanned / seconds, quarters: quarterRates(samples, opts.contacts), runsCounted, ids, rss, progressLines, postgres, failures,
    };
    for (const line of formatAudienceReport(r).split('\n')) log(line);
    return r;
  } finally {
    if (scheduleCreated && connection) await createTemporalClient(connection, loadConfig()).schedule.getHandle(audienceScheduleId(journeyId)).delete().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await worker?.stop();
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await disconnectDatabase();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Contacts/s over the first and last quarter of `total`, between the samples closest to 25% and 75%. */
function quarterRates(samples: { at: number; scanned: number }[], total: number): AudienceBenchResult['quarters'] {
  const sorted = [...samples].sort((a, b) => a.at - b.at);
  const q1 = sorted.find((x) => x.scanned >= total / 4);
  const q3 = [...sorted].reverse().find((x) => x.scanned <= (total * 3) / 4);
  const end = sorted[sorted.length - 1];
  if (!q1 || !q3 || q1.at <= sorted[0].at || end.at <= q3.at || q1.scanned === 0 || end.scanned === q3.scanned) return null;
  return { first: (q1.scanned / (q1.at - sorted[0].at)) * 1000, last: ((end.scanned - q3.scanned) / (end.at - q3.at)) * 1000 };
}

export function formatAudienceReport(r: AudienceBenchResult): string {
  const t = r.totals;
  return [
    `audience scan: ${fmt(r.contacts)} contacts, ${fmt(r.expected)} in the segment`,
    `time ${r.seconds.toFixed(1)} s, ${fmt(t.pages)} pages, ${fmt(Math.round(r.scannedPerSec))} contacts scanned/s, ${(t.started / r.seconds).toFixed(1)} runs started/s`,
    `scanned ${fmt(t.scanned)}, matched ${fmt(t.matched)}, runs started ${fmt(t.started)} (already entered ${fmt(t.alreadyEntered)}${t.alreadyEntered ? ': pages retried after a timeout' : ''}), runs counted by Temporal ${fmt(r.runsCounted)}: ${r.failures.length ? 'MISMATCH' : 'every member once'}`,
    ...(r.quarters ? [`contacts scanned/s over the first quarter ${fmt(Math.round(r.quarters.first))}, over the last ${fmt(Math.round(r.quarters.last))} (last/first ${(r.quarters.last / r.quarters.first).toFixed(2)})`] : []),
    `worker RSS start ${MB(r.rss.start)}, peak ${MB(r.rss.peak)}, end ${MB(r.rss.end)} (end/start ${(r.rss.end / r.rss.start).toFixed(2)})`,
    ...(r.postgres ? [`PostgreSQL, contacts table over the scan: ${fmt(r.postgres.rowsReadByScans)} rows read by scans, ${fmt(r.postgres.rowsFetchedThroughIndex)} fetched through an index`] : []),
    ...r.failures.map((f) => `FAILED: ${f}`),
  ].join('\n');
}

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : undefined;
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-audience-stack-'));
  fs.chmodSync(tmp, 0o755);
  const servers: RunningServer[] = [];
  const stopAll = async () => {
    for (const s of [...servers].reverse()) await s.stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void stopAll().finally(() => process.exit(130)));
  try {
    let mongoUri = process.env.MONGODB_URI;
    let postgresUrl = process.env.SOJOURN_BENCH_POSTGRES_URL || null;
    const p = !mongoUri || !process.env.TEMPORAL_ADDRESS ? provision() : null;
    if (!mongoUri) {
      const db = await startEmbeddedDatabase({ p: p!, backend: dbBackend(), port: await freePort(), dataDir: path.join(tmp, 'data'), logDir: tmp, throwAway: true });
      servers.push(db);
      mongoUri = db.uri;
      postgresUrl = db.postgresUrl;
    }
    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    if (!temporalAddress) {
      const t = await startTemporalDev({ bin: process.env.TEMPORAL_CLI_BIN ?? p!.temporal, port: await freePort(), searchAttributes: [...SEARCH_ATTRIBUTES], logFile: path.join(tmp, 'temporal.log') });
      servers.push(t);
      temporalAddress = t.address;
    }
    const r = await runAudienceBench({
      contacts: arg('contacts') ?? 1_000_000, matchEvery: arg('match-every'), pageSize: arg('page-size'), concurrency: arg('concurrency'),
      mongoUri, temporalAddress, postgresUrl,
    });
    if (r.failures.length) process.exitCode = 1;
  } finally {
    await stopAll();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

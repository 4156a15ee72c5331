/**
 * The real API (apiPlugin, every route file) in a process of its own on a loopback port, so a test can
 * SIGKILL it mid-request as a crash would and start another one on the same database. Prints
 * `listening <url>` when ready. Settings from the environment: MONGODB_URI (the test's database),
 * IMPORT_SPOOL_DIR, IMPORT_HEARTBEAT_MS, IMPORT_STALE_AFTER_MS, IMPORT_BATCH_SIZE.
 */
import Fastify from 'fastify';
import { connectDatabase, initDatabase } from '../../../data/db';
import { createContacts } from '../../../data/contacts';
import { apiPlugin } from '../../../server/api';
import { loadConfig } from '../../../lib/config';
import { TEST_KEYS } from '../contacts/setup';
import { API_KEY } from './api-server';

async function main() {
  await connectDatabase(process.env.MONGODB_URI!);
  await initDatabase();
  const num = (name: string) => (process.env[name] ? Number(process.env[name]) : undefined);
  const app = Fastify();
  await app.register(apiPlugin, {
    config: { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: API_KEY, ...TEST_KEYS },
    contacts: createContacts(TEST_KEYS),
    importJobs: {
      spoolDir: process.env.IMPORT_SPOOL_DIR,
      heartbeatMs: num('IMPORT_HEARTBEAT_MS'),
      staleAfterMs: num('IMPORT_STALE_AFTER_MS'),
      batchSize: num('IMPORT_BATCH_SIZE'),
    },
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  process.stdout.write(`listening ${url}\n`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});

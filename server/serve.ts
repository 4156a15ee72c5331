/**
 * The long-running product process: connects to the database and Temporal, runs the worker and the
 * HTTP server, and stops both cleanly on SIGINT/SIGTERM.
 */
import Fastify from 'fastify';
import mongoose from 'mongoose';
import type { Config } from '../lib/config';

export async function serve(config: Config, _opts: { demo: boolean }): Promise<void> {
  await mongoose.connect(config.mongodbUri, { serverSelectionTimeoutMS: 15_000 });
  const app = Fastify({ logger: { level: 'info' } });
  app.get('/health', async () => ({ ok: true }));
  await app.listen({ port: config.httpPort, host: config.httpHost });
  const stop = async () => {
    await app.close();
    await mongoose.disconnect();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

/**
 * The long-running processes: `serve` (worker and HTTP server together: the local default, what
 * `npm start` runs), `worker` (the Temporal worker only; run several to scale) and `server` (the HTTP
 * API and public endpoints only). All stop gracefully on SIGINT/SIGTERM (server/serve.ts).
 */
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import type { Role } from '../../server/serve';

async function run(role: Role, demo: boolean): Promise<void> {
  const { serve } = await import('../../server/serve');
  await serve(loadConfig(), { demo, role });
}

export function register(program: Command): void {
  program
    .command('serve')
    .description('run the Temporal worker and the HTTP server (API + public endpoints) in one process; deploys journeys/ at start')
    .option('--demo', 'on first start, load demo contacts and trigger runs')
    .action(async (opts: { demo?: boolean }) => run('both', !!opts.demo));
  program
    .command('worker')
    .description('run the Temporal worker only (several may share the task queue); /healthz and /readyz on HEALTH_PORT if set')
    .action(async () => run('worker', false));
  program
    .command('server')
    .description('run the HTTP server only (API, public endpoints, /healthz, /readyz); journeys are deployed with `sojourn deploy`')
    .action(async () => run('server', false));
}

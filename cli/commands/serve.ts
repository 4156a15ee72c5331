import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';

/** `sojourn serve`: the worker and the HTTP server in one process (what `npm start` runs). */
export function register(program: Command): void {
  program
    .command('serve')
    .description('run the Temporal worker and the HTTP server (API + public endpoints)')
    .option('--demo', 'on first start, deploy journeys/, load demo contacts and trigger runs')
    .action(async (opts: { demo?: boolean }) => {
      const { serve } = await import('../../server/serve');
      await serve(loadConfig(), { demo: !!opts.demo });
    });
}

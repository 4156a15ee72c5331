/**
 * `sojourn deploy [paths...]`: validates and compiles journeys (default: journeys/), stores each plan as an
 * immutable version in MongoDB (unchanged files are a no-op), makes it live and registers its schedules.
 * Options: --no-schedules (database only, no Temporal), --format json.
 * Exit codes: 0 deployed (or nothing to do), 1 the files have errors, 2 bad usage or a crash.
 */
import type { Command } from 'commander';
import type { Connection } from '@temporalio/client';
import { connectClientConnection, createTemporalClient } from '../../lib/temporal-connection';
import { loadConfig } from '../../lib/config';
import { connectDatabase, disconnectDatabase } from '../../data/db';
import { deployJourneys } from '../../engine/deploy';

export function register(program: Command): void {
  program
    .command('deploy')
    .description('Validate, version and deploy journeys; register their schedules')
    .argument('[paths...]', 'journey/rules files or folders', [])
    .option('--no-schedules', 'do not contact Temporal (store versions only)')
    .option('--format <format>', 'text or json', 'text')
    .action(async (paths: string[], opts: { schedules: boolean; format: string }) => {
      const cfg = loadConfig();
      await connectDatabase(cfg.mongodbUri);
      let connection: Connection | undefined;
      try {
        if (opts.schedules) connection = await connectClientConnection(cfg.temporal);
        const client = connection ? createTemporalClient(connection, cfg) : undefined;
        const r = await deployJourneys(paths, { client, taskQueue: cfg.taskQueue, timeScale: cfg.timeScale });
        if (opts.format === 'json') console.log(JSON.stringify(r, null, 2));
        else {
          for (const m of r.messages) console.error(m);
          for (const j of r.journeys) {
            console.log(`${j.journeyId}: ${j.status === 'created' ? `deployed version ${j.version}` : `unchanged (version ${j.version})`}${j.schedule !== 'none' && j.schedule !== 'skipped' ? `, schedule ${j.schedule}` : ''}`);
          }
          if (r.ok && r.classification.ruleSets.length) {
            console.log(`classification: ${r.classification.ruleSets.join(', ')}${r.classification.schedule !== 'skipped' ? `, daily schedule ${r.classification.schedule}` : ''}`);
          }
          if (!r.ok) console.error('deploy refused: fix the errors above');
        }
        process.exitCode = r.ok ? 0 : 1;
      } finally {
        await connection?.close();
        await disconnectDatabase();
      }
    });
}

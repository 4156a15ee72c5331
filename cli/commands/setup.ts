/**
 * `sojourn setup`: prepares a cluster and a database for Sojourn, idempotently: registers the custom
 * search attributes in the namespace through Temporal's operator service and creates the collections
 * and indexes. Run it once per environment (and after upgrades); running it again changes nothing.
 * Exit codes: 0 ready, 2 a server refused or could not be reached.
 */
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { describeTemporal } from '../../lib/temporal-config';

export function register(program: Command): void {
  program
    .command('setup')
    .description('Register the search attributes on the Temporal namespace and create the database indexes (idempotent)')
    .option('--no-temporal', 'only the database')
    .option('--no-database', 'only the search attributes')
    .action(async (opts: { temporal: boolean; database: boolean }) => {
      const cfg = loadConfig();
      if (opts.temporal) {
        const { connectClientConnection } = await import('../../lib/temporal-connection');
        const { registerSearchAttributes } = await import('../../engine/search-attributes');
        const connection = await connectClientConnection(cfg.temporal);
        try {
          const r = await registerSearchAttributes(connection, cfg.temporal.namespace);
          console.log(`Temporal ${describeTemporal(cfg.temporal)}: search attributes ${r.added.length ? `added ${r.added.join(', ')}` : 'already registered'}${r.added.length && r.existing.length ? `; already there: ${r.existing.join(', ')}` : ''}`);
        } finally {
          await connection.close();
        }
      }
      if (opts.database) {
        const { connectDatabase, disconnectDatabase, initDatabase, ALL_MODELS } = await import('../../data/db');
        await connectDatabase(cfg.mongodbUri);
        try {
          await initDatabase();
          console.log(`database: ${ALL_MODELS.length} collections and their indexes are in place`);
        } finally {
          await disconnectDatabase();
        }
      }
    });
}

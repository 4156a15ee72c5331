/**
 * `sojourn backup <dir>` and `sojourn restore <dir>` for the local stack (lib/local-backup.ts): the
 * Temporal dev server's runs and FerretDB's contacts, events and journeys, as consistent SQLite copies.
 * Backup works while `npm start` runs; restore needs it stopped. Against a real MongoDB or Temporal
 * cluster these refuse and point to docs/deploy.md (mongodump / snapshots, the cluster's own backups).
 * Exit codes: 0 done, 1 refused (stack running, data present, bad backup), 2 bad usage or a crash.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';
import { backupLocalData, restoreLocalData } from '../../lib/local-backup';
import { portInUse } from '../../scripts/servers';

function localOnly(): string | null {
  if (process.env.MONGODB_URI || process.env.TEMPORAL_ADDRESS) {
    return 'MONGODB_URI or TEMPORAL_ADDRESS points at external servers: back those up with their own tools (docs/deploy.md, "Backups")';
  }
  return null;
}

export function register(program: Command): void {
  program
    .command('backup')
    .argument('<dir>', 'a new folder for the backup')
    .description('Back up the local stack (Temporal runs and the database), consistent while it runs')
    .action((dir: string) => {
      const refused = localOnly();
      if (refused) return void ((process.exitCode = 1), console.error(refused));
      const dataDir = path.join(loadConfig().cacheDir, 'data');
      const m = backupLocalData(dataDir, path.resolve(dir));
      for (const f of m.files) console.log(`  ${f.path}  ${f.bytes} bytes  sha256 ${f.sha256.slice(0, 16)}`);
      console.log(`backup of ${dataDir} written to ${path.resolve(dir)} (${m.files.length} files)`);
    });
  program
    .command('restore')
    .argument('<dir>', 'a folder written by `sojourn backup`')
    .option('--force', 'replace the data that is there')
    .description('Restore the local stack from a backup (stop `npm start` first)')
    .action(async (dir: string, opts: { force?: boolean }) => {
      const refused = localOnly();
      if (refused) return void ((process.exitCode = 1), console.error(refused));
      const cfg = loadConfig();
      const ports = { TEMPORAL_PORT: Number(process.env.TEMPORAL_PORT || 7233), FERRETDB_PORT: Number(process.env.FERRETDB_PORT || 27017) };
      for (const [name, port] of Object.entries(ports)) {
        if (await portInUse(port)) return void ((process.exitCode = 1), console.error(`something listens on ${name}=${port}: stop \`npm start\` before restoring`));
      }
      const dataDir = path.join(cfg.cacheDir, 'data');
      try {
        const m = restoreLocalData(path.resolve(dir), dataDir, { force: opts.force });
        console.log(`restored ${m.files.length} files of the backup of ${m.createdAt} into ${dataDir}; \`npm start\` brings the runs and contacts back`);
      } catch (err) {
        console.error((err as Error).message);
        process.exitCode = 1;
      }
    });
}

import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';

/** `sojourn migrate phones`: one-off, idempotent data migrations after an upgrade. */
export function register(program: Command): void {
  const migrate = program.command('migrate').description('one-off data migrations after an upgrade (idempotent)');
  migrate
    .command('phones')
    .description('bind every stored phone ciphertext to its contact (AES-GCM associated data)')
    .action(async () => {
      const cfg = loadConfig();
      const { connectDatabase, disconnectDatabase } = await import('../../data/db');
      const { bindPhoneCiphertexts } = await import('../../data/phone-aad-migration');
      await connectDatabase(cfg.mongodbUri);
      try {
        const r = await bindPhoneCiphertexts({ secret: cfg.secret, phoneKey: cfg.phoneKey });
        console.log(`contacts with phones: ${r.scanned}; rewritten: ${r.rewritten} (${r.phones} phones); changed meanwhile, run again: ${r.skipped}`);
        if (r.skipped > 0) process.exitCode = 1;
      } finally {
        await disconnectDatabase();
      }
    });
}

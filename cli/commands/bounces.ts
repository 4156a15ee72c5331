/**
 * `sojourn bounces ingest <file.eml...>`: reads DSN bounce and ARF complaint reports, correlates each
 * to the send ledger by the original Message-ID, and updates the contact (email status, consent,
 * suppression) through the Contacts data layer. The email.bounced / email.complained event goes through
 * the one ingest (engine/ingest.ts): stored once (deterministic id: re-ingesting a file stores nothing
 * twice), then dispatched to the runs. With --signal it is dispatched now (needs Temporal); without,
 * it waits in the outbox and the running `sojourn serve` dispatches it within seconds.
 * Exit codes: 0 all files processed, 1 a file could not be read or parsed, 2 bad usage.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';

export function register(program: Command): void {
  const bounces = program.command('bounces').description('bounce and complaint reports (DSN, ARF)');
  bounces
    .command('ingest <files...>')
    .description('ingest DSN/ARF messages (.eml): classify hard/soft/complaint, update contacts and suppression')
    .option('--signal', 'dispatch the events to the journey runs now (needs Temporal); default: `sojourn serve` does it from the outbox')
    .option('--format <format>', 'text or json', 'text')
    .action(async (files: string[], opts: { signal?: boolean; format?: string }) => {
      const config = loadConfig();
      const { connectDatabase, disconnectDatabase } = await import('../../data/db');
      const { applyContactUpdate, getContact, suppress } = await import('../../data/contacts');
      const { dataLayerContactsPort } = await import('../../mail/contacts-port');
      const { ingestReport, softBouncePolicy } = await import('../../mail/bounces');
      const { createIngest } = await import('../../engine/ingest');
      await connectDatabase(config.mongodbUri);
      let dispatcher: import('../../engine/dispatch').EventDispatcher | null = null;
      let closeTemporal: (() => Promise<void>) | undefined;
      if (opts.signal) {
        const { connectTemporal } = await import('../../lib/temporal-connection');
        const { connection, client } = await connectTemporal(config);
        const { createEventDispatcher } = await import('../../engine/dispatch');
        closeTemporal = () => connection.close();
        dispatcher = createEventDispatcher({ client, taskQueue: config.taskQueue });
      }
      const ingest = createIngest({ dispatcher });
      let pending = 0;
      const onEvent = async (e: import('../../data/contact-event-model').NewEvent) => {
        const r = await ingest.ingest(e);
        if (!r.dispatched) pending++;
      };
      const contacts = dataLayerContactsPort({ applyContactUpdate, getContact, suppress });
      const results: Array<Record<string, unknown>> = [];
      let failed = false;
      try {
        for (const file of files) {
          try {
            const r = await ingestReport(fs.readFileSync(file), { contacts, onEvent, mailDomain: config.mailDomain, softBounces: softBouncePolicy(config) });
            results.push({ file, ...r });
          } catch (err) {
            failed = true;
            results.push({ file, error: (err as Error).message });
          }
        }
      } finally {
        await closeTemporal?.();
        await disconnectDatabase();
      }
      if (opts.format === 'json') console.log(JSON.stringify(results, null, 2));
      else {
        for (const r of results) {
          if (r.error) console.log(`${r.file}: error: ${r.error}`);
          else console.log(`${r.file}: ${r.type} ${r.classification}${r.code ? ` (${r.code})` : ''} -> ${r.contactId ? `contact ${r.contactId}: ${r.effect}` : `no matching send (${r.originalMessageId ?? 'no Message-ID'})`}`);
        }
      }
      if (pending && opts.format !== 'json') console.log(`${pending} event(s) stored and waiting in the outbox: \`sojourn serve\` dispatches them`);
      if (failed) process.exitCode = 1;
    });
}

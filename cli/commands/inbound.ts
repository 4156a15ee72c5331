/**
 * `sojourn inbound ingest <file.eml...>`: processes saved inbound messages the way the inbound SMTP
 * listener does (mail/inbound.ts): the mailto unsubscribe address unsubscribes, other mail is
 * classified by the rule sets over messages (category, urgency) and, for a known sender, recorded on
 * the contact's timeline as `email.received`. Prints one line per file.
 * Exit codes: 0 all files processed, 1 a file could not be read or processed, 2 bad usage.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';

export function register(program: Command): void {
  const inbound = program.command('inbound').description('inbound email: replies, the mailto unsubscribe address');
  inbound
    .command('ingest <files...>')
    .description('classify saved messages (.eml) and apply mailto unsubscribes')
    .option('--rules <paths...>', 'rules files or folders with the rule sets over messages', ['journeys'])
    .option('--format <format>', 'text or json', 'text')
    .action(async (files: string[], opts: { rules: string[]; format?: string }) => {
      const config = loadConfig();
      const { loadProject } = await import('../../engine/project');
      const project = loadProject(opts.rules.map((p) => path.resolve(p)));
      const errors = project.result.diagnostics.filter((d) => d.severity === 'error');
      if (errors.length) {
        console.error(`the rules have errors; run \`sojourn validate ${opts.rules.join(' ')}\``);
        process.exitCode = 2;
        return;
      }
      const { connectDatabase, disconnectDatabase } = await import('../../data/db');
      const { createInboundProcessor } = await import('../../server/inbound');
      const { createEngineIngest } = await import('../../engine/engine-ingest');
      const { connectTemporal } = await import('../../lib/temporal-connection');
      await connectDatabase(config.mongodbUri);
      const { connection, client } = await connectTemporal(config);
      const ingest = createEngineIngest(client, config.taskQueue);
      const processMessage = createInboundProcessor(config, {
        ruleSets: project.result.rules.ruleSets,
        // The one door for events; if Temporal is unreachable the event waits in the outbox for `sojourn serve`.
        emit: (e) => ingest.ingest(e),
      });
      const results: Array<Record<string, unknown>> = [];
      try {
        for (const file of files) {
          try {
            results.push({ file, ...(await processMessage(fs.readFileSync(file))) });
          } catch (err) {
            process.exitCode = 1;
            results.push({ file, error: (err as Error).message });
          }
        }
      } finally {
        await connection.close();
        await disconnectDatabase();
      }
      if (opts.format === 'json') console.log(JSON.stringify(results, null, 2));
      else for (const r of results) {
        if (r.error) console.log(`${r.file}: error: ${r.error}`);
        else if (r.kind === 'unsubscribed') console.log(`${r.file}: unsubscribed contact ${r.contactId} (mailto)`);
        else if (r.kind === 'ignored') console.log(`${r.file}: ignored (${r.reason})`);
        else console.log(`${r.file}: ${r.category}, urgency ${r.urgency}${r.contactId ? ` -> recorded on contact ${r.contactId}` : ' (sender is not a contact)'}`);
      }
    });
}

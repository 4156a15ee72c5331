/**
 * `sojourn preview <template> --contact <id|file.json> [--vars file.json] [--out dir]`: writes the
 * rendered HTML and text of an email for one contact, and a PNG screenshot when Chromium is installed.
 * Exit codes: 0 written, 1 the template has an error (file:line printed), 2 bad usage.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../lib/config';

interface PreviewOptions { contact: string; vars?: string; out?: string; templates?: string; screenshot?: boolean; format?: string }

function readJson(file: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
}

/** A contact from a JSON file, or by id from the database (personal fields only). */
async function loadPreviewContact(ref: string): Promise<{ contact: Record<string, unknown>; email: string | null }> {
  if (fs.existsSync(ref)) {
    const { email, ...contact } = readJson(ref);
    return { contact: { id: 'preview', ...contact }, email: typeof email === 'string' ? email : null };
  }
  const config = loadConfig();
  const { connectDatabase, disconnectDatabase } = await import('../../data/db');
  const { getContact } = await import('../../data/contacts');
  const { toContactView } = await import('../../data/contact-view');
  await connectDatabase(config.mongodbUri);
  try {
    const doc = await getContact(ref);
    if (!doc) throw new Error(`no contact with id ${ref} (or pass a JSON file)`);
    return { contact: { ...toContactView(doc) }, email: doc.email ?? null };
  } finally {
    await disconnectDatabase();
  }
}

export function register(program: Command): void {
  program
    .command('preview <template>')
    .description('render an email for a contact: writes HTML, text and a PNG screenshot (when Chromium is installed)')
    .requiredOption('--contact <id|file>', 'contact id in the database, or a JSON file with firstName, locale, timezone, ...')
    .option('--vars <file|json>', 'step variables (JSON file or inline JSON)')
    .option('--out <dir>', 'output folder', 'preview')
    .option('--templates <dir>', 'templates folder', 'templates')
    .option('--no-screenshot', 'skip the PNG screenshot')
    .option('--format <format>', 'text or json', 'text')
    .action(async (template: string, opts: PreviewOptions) => {
      const { writePreview } = await import('../../mail/preview');
      const { TemplateError } = await import('../../mail/templates');
      const vars = opts.vars ? (fs.existsSync(opts.vars) ? readJson(opts.vars) : (JSON.parse(opts.vars) as Record<string, unknown>)) : {};
      const { contact, email } = await loadPreviewContact(opts.contact);
      try {
        const r = await writePreview({ templateId: template, contact, email, vars, outDir: path.resolve(opts.out ?? 'preview'), config: loadConfig(), templatesDir: path.resolve(opts.templates ?? 'templates'), screenshot: opts.screenshot });
        if (opts.format === 'json') {
          console.log(JSON.stringify({ template, subject: r.rendered.subject, marketing: r.rendered.marketing, version: r.rendered.version, html: r.htmlFile, text: r.textFile, screenshot: r.screenshot }, null, 2));
        } else {
          console.log(`Subject:    ${r.rendered.subject}`);
          console.log(`Kind:       ${r.rendered.kind} (version ${r.rendered.version})`);
          console.log(`HTML:       ${r.htmlFile}`);
          console.log(`Text:       ${r.textFile}`);
          console.log('file' in r.screenshot ? `Screenshot: ${r.screenshot.file}` : `Screenshot: skipped — ${r.screenshot.skipped}`);
          console.log('Links in a preview are signed with a throw-away key and do nothing.');
        }
      } catch (err) {
        if (err instanceof TemplateError) {
          console.error(err.message);
          process.exitCode = 1;
          return;
        }
        throw err;
      }
    });
}

/**
 * `sojourn classify <rule_set> [--dry-run]`: runs one contact rule set (importance, lifecycle, rfm,
 * business_type, ... from the rules files, default journeys/) over every live contact, page by page by
 * `_id`, as the daily schedule does. `--dry-run` prints the distribution it would produce (contacts per
 * class and the rule that matched) and stores nothing; without it the values are stored (only changes
 * are written), with progress on stderr. Exit codes: 0 done, 1 the rules files have errors, 2 bad usage
 * (unknown rule set) or a crash.
 */
import type { Command } from 'commander';
import { SingleBar, Presets } from 'cli-progress';
import { loadConfig } from '../../lib/config';
import { connectDatabase, disconnectDatabase } from '../../data/db';
import { classifyAll, estimateContacts, type ClassDistribution } from '../../data/contacts';
import { contactRuleSets } from '../../data/classify';
import { loadProject } from '../../engine/project';
import { formatDiagnostic, hasErrors, type RuleSetPlan } from '../../rules';
import { suggestion } from '../../rules/diagnostics';

export interface DistributionRow { value: string; rule: string; reason: string; contacts: number }

/** One row per class and rule, in the rule set's order (classes no contact fell into show 0), then anything else stored. */
export function distributionRows(rs: RuleSetPlan, distribution: ClassDistribution): DistributionRow[] {
  const byValue = distribution[rs.field] ?? {};
  const rows: DistributionRow[] = rs.rules.map((r, i) => ({ value: r.value, rule: `${rs.name}#${i}`, reason: r.reason, contacts: byValue[r.value]?.[`${rs.name}#${i}`] ?? 0 }));
  if (rs.otherwise !== null) rows.push({ value: rs.otherwise, rule: `${rs.name}#otherwise`, reason: 'no rule matched', contacts: byValue[rs.otherwise]?.[`${rs.name}#otherwise`] ?? 0 });
  return rows;
}

/** The table people read: class, contacts, share, rule, reason. */
export function formatDistribution(rs: RuleSetPlan, rows: DistributionRow[], totals: { scanned: number; changed: number; dryRun: boolean }): string {
  const w = Math.max(5, ...rows.map((r) => r.value.length));
  const rw = Math.max(4, ...rows.map((r) => r.rule.length));
  const pct = (n: number) => (totals.scanned ? `${((100 * n) / totals.scanned).toFixed(1)}%` : '-');
  const lines = [
    `${rs.name} -> contact.${rs.field} over ${totals.scanned} contacts${totals.dryRun ? ' (dry run: nothing stored)' : ''}`,
    `  ${'class'.padEnd(w)}  ${'contacts'.padStart(8)}  ${'share'.padStart(6)}  ${'rule'.padEnd(rw)}  reason`,
    ...rows.map((r) => `  ${r.value.padEnd(w)}  ${String(r.contacts).padStart(8)}  ${pct(r.contacts).padStart(6)}  ${r.rule.padEnd(rw)}  ${r.reason}`),
    totals.dryRun ? `would change ${totals.changed} of ${totals.scanned} contacts` : `changed ${totals.changed} of ${totals.scanned} contacts`,
  ];
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('classify')
    .description('Classify every contact with a rule set (importance, lifecycle, rfm, business_type); --dry-run prints the distribution only')
    .argument('<rule_set>', 'rule set name (or the field it writes, e.g. businessType)')
    .option('--dry-run', 'print the distribution it would produce; store nothing')
    .option('--rules <paths...>', 'rules files or folders', ['journeys'])
    .option('--batch-size <n>', 'contacts per page', (v) => Number(v), 500)
    .option('--format <format>', 'text or json', 'text')
    .action(async (name: string, opts: { dryRun?: boolean; rules: string[]; batchSize: number; format: string }) => {
      if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1 || opts.batchSize > 10_000) {
        console.error('--batch-size must be a whole number from 1 to 10000');
        process.exitCode = 2;
        return;
      }
      const { sources, result } = loadProject(opts.rules);
      if (hasErrors(result.diagnostics)) {
        const texts = new Map(sources.map((f) => [f.path, f.text]));
        for (const d of result.diagnostics) console.error(formatDiagnostic(d, texts.get(d.file)));
        process.exitCode = 1;
        return;
      }
      const sets = contactRuleSets(Object.values(result.rules.ruleSets));
      const rs = sets.find((r) => r.name === name) ?? sets.find((r) => r.field === name);
      if (!rs) {
        console.error(`no contact rule set "${name}" in ${opts.rules.join(', ')}.${suggestion(name, sets.map((r) => r.name))} Rule sets: ${sets.map((r) => r.name).join(', ') || 'none'}`);
        process.exitCode = 2;
        return;
      }
      const cfg = loadConfig();
      await connectDatabase(cfg.mongodbUri);
      try {
        const total = await estimateContacts();
        const started = Date.now();
        let lastLog = 0;
        const bar = process.stderr.isTTY && opts.format !== 'json'
          ? new SingleBar({ stream: process.stderr, format: 'classifying [{bar}] {value}/{total} contacts | {rate}/s | ETA {eta_formatted}', etaBuffer: 20, fps: 5 }, Presets.shades_classic)
          : null;
        bar?.start(total, 0, { rate: 0 });
        const r = await classifyAll([rs], {
          batchSize: opts.batchSize, dryRun: opts.dryRun === true,
          onPage: ({ scanned }) => {
            const rate = scanned / Math.max(0.001, (Date.now() - started) / 1000);
            if (bar) bar.update(Math.min(scanned, Math.max(total, scanned)), { rate: Math.round(rate) });
            else if (opts.format !== 'json' && Date.now() - lastLog >= 5000) {
              lastLog = Date.now();
              process.stderr.write(`classified ${scanned}/~${total} contacts, ${Math.round(rate)}/s\n`);
            }
          },
        });
        bar?.stop();
        const rows = distributionRows(rs, r.distribution);
        if (opts.format === 'json') console.log(JSON.stringify({ ruleSet: rs.name, field: rs.field, dryRun: opts.dryRun === true, scanned: r.scanned, changed: r.changed, classes: rows }, null, 2));
        else console.log(formatDistribution(rs, rows, { scanned: r.scanned, changed: r.changed, dryRun: opts.dryRun === true }));
      } finally {
        await disconnectDatabase();
      }
    });
}

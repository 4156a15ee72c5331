/**
 * `sojourn validate [paths...]`: compiles journey and rules files and prints every problem.
 * Folders are searched for *.yaml / *.yml (scenario files *.scenarios.yaml are skipped).
 * Exit codes: 0 no errors (warnings allowed), 1 at least one error, 2 bad usage.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { loadProject } from '../../engine/project';
import { formatDiagnostic, type Diagnostic } from '../../rules';

export interface ValidateOutput { exitCode: number; text: string }

/** Validates paths; returns the printed text and the exit code (the command is a thin wrapper). */
export function validatePaths(paths: string[], opts: { format?: string; templates?: string }): ValidateOutput {
  const { files, missing, sources, result, templateTexts } = loadProject(paths.length ? paths : ['journeys'], opts.templates ?? path.join(process.cwd(), 'templates'));
  if (missing.length) return { exitCode: 2, text: `No such file or folder: ${missing.join(', ')}` };
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = result.diagnostics.length - errors;
  const exitCode = errors > 0 ? 1 : 0;
  if (opts.format === 'json') {
    return {
      exitCode,
      text: JSON.stringify({
        ok: errors === 0, errors, warnings, files: result.files,
        journeys: Object.values(result.plans).map((p) => ({ id: p.journeyId, hash: p.hash, steps: Object.keys(p.steps).length, file: p.sourceFile })),
        diagnostics: result.diagnostics,
      }, null, 2),
    };
  }
  const textOf = new Map([...sources.map((s) => [s.path, s.text] as const), ...Object.entries(templateTexts)]);
  const lines = result.diagnostics.map((d: Diagnostic) => formatDiagnostic(d, textOf.get(d.file)));
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  lines.push(`${errors ? '✗' : '✓'} ${plural(files.length, 'file')} checked (${plural(Object.keys(result.plans).length, 'journey')}, ` +
    `${plural(Object.keys(result.rules.segments).length, 'segment')}, ${plural(Object.keys(result.rules.ruleSets).length, 'rule set')}): ` +
    `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`);
  return { exitCode, text: lines.join('\n\n') };
}

export function register(program: Command): void {
  program
    .command('validate')
    .description('check journey and rules files; prints file:line:col diagnostics (exit 1 on any error)')
    .argument('[paths...]', 'files or folders (default: journeys/)')
    .option('--format <format>', 'output format: text or json', 'text')
    .option('--templates <dir>', 'templates folder', 'templates')
    .action((paths: string[], opts: { format: string; templates: string }) => {
      if (!['text', 'json'].includes(opts.format)) {
        console.error(`--format must be text or json, not ${opts.format}`);
        process.exit(2);
      }
      const out = validatePaths(paths, opts);
      (out.exitCode === 2 ? console.error : console.log)(out.text);
      process.exitCode = out.exitCode;
    });
}

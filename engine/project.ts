/**
 * Loads a Sojourn project from disk: journey and rules files (files or folders) plus the template
 * catalog, compiled with rules/ in one go. Shared by `validate`, `deploy`, `test` and `serve --demo`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readTemplateCatalog } from '../mail/template-catalog';
import { readTemplateUses } from '../mail/template-variables';
import { compileProject, type ProjectResult, type SourceFile } from '../rules';

const isScenario = (f: string) => /\.scenarios\.ya?ml$/.test(f);

/** Expands files and folders (recursively) into the YAML files to compile, sorted; scenario files are left out. */
function collectFiles(paths: string[]): { files: string[]; missing: string[] } {
  const files = new Set<string>();
  const missing: string[] = [];
  const walk = (p: string) => {
    for (const e of fs.readdirSync(p, { withFileTypes: true })) {
      const full = path.join(p, e.name);
      if (e.isDirectory()) {
        if (!e.name.startsWith('.') && e.name !== 'node_modules') walk(full);
      } else if (/\.ya?ml$/.test(e.name) && !isScenario(e.name)) files.add(full);
    }
  };
  for (const p of paths) {
    if (!fs.existsSync(p)) missing.push(p);
    else if (fs.statSync(p).isDirectory()) walk(p);
    else files.add(p);
  }
  return { files: [...files].sort(), missing };
}

export interface LoadedProject {
  files: string[];
  missing: string[];
  sources: SourceFile[];
  result: ProjectResult;
  /** Text of the template files that diagnostics point at (by the diagnostic's file path). */
  templateTexts: Record<string, string>;
}

export function loadProject(paths: string[], templatesDir = path.join(process.cwd(), 'templates')): LoadedProject {
  const { files, missing } = collectFiles(paths);
  // Paths relative to the working directory: they appear in diagnostics and in the plans' step
  // locations, which are part of the content hash, so the same file deploys as the same version from
  // any caller (CLI, serve, tests).
  const sources: SourceFile[] = files.map((f) => ({ path: path.relative(process.cwd(), f) || f, text: fs.readFileSync(f, 'utf8') }));
  const templateUses = readTemplateUses(templatesDir);
  const result = compileProject(sources, { templates: readTemplateCatalog(templatesDir), templateUses });
  // Template files a diagnostic points at (E_TEMPLATE_VARIABLE), so validate can show the line.
  const templateTexts: Record<string, string> = {};
  for (const d of result.diagnostics) {
    if (d.file.endsWith('.hbs') && !(d.file in templateTexts)) {
      try {
        templateTexts[d.file] = fs.readFileSync(d.file, 'utf8');
      } catch {
        /* shown without its line */
      }
    }
  }
  return { files: sources.map((s) => s.path), missing, sources, result, templateTexts };
}

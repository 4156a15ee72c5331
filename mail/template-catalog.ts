/**
 * The template catalog the DSL compiles against: template id -> { id, marketing }. Reads only the
 * YAML front matter of `templates/<id>.hbs` (sync, cheap); rendering lives in mail/render.ts.
 * Files with missing or invalid front matter are left out (Delivery's loader reports them), so a
 * journey sending them gets E_UNKNOWN_TEMPLATE.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { TemplateRef } from '../rules/plan';

export const DEFAULT_TEMPLATES_DIR = path.join(__dirname, '..', 'templates');

/** Template refs keyed by id (basename of `<id>.hbs`, excluding `<id>.text.hbs`). */
export function readTemplateCatalog(dir: string = DEFAULT_TEMPLATES_DIR): Record<string, TemplateRef> {
  const out: Record<string, TemplateRef> = {};
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    if (!name.endsWith('.hbs') || name.endsWith('.text.hbs')) continue;
    const id = name.slice(0, -'.hbs'.length);
    const kind = frontMatterKind(fs.readFileSync(path.join(dir, name), 'utf8'));
    if (kind) out[id] = { id, marketing: kind === 'marketing' };
  }
  return out;
}

function frontMatterKind(text: string): 'marketing' | 'transactional' | null {
  const m = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text);
  if (!m) return null;
  try {
    const meta = YAML.parse(m[1]) as { kind?: unknown } | null;
    return meta?.kind === 'marketing' || meta?.kind === 'transactional' ? meta.kind : null;
  } catch {
    return null;
  }
}

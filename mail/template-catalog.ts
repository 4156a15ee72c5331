/**
 * The template catalog the DSL compiles against: template id -> { id, marketing, topic }. Reads only
 * the YAML front matter of `templates/<id>.hbs` (sync, cheap); rendering lives in mail/render.ts.
 * Files with missing or invalid front matter are left out (Delivery's loader reports them), so a
 * journey sending them gets E_UNKNOWN_TEMPLATE. A marketing template must declare its preference-centre
 * `topic:`; the catalog carries `topic: null` when it does not, and `validate` reports
 * E_TEMPLATE_NO_TOPIC at every send of it (the gate needs the topic to honour topic opt-outs).
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
    const meta = frontMatter(fs.readFileSync(path.join(dir, name), 'utf8'));
    if (meta) out[id] = { id, marketing: meta.kind === 'marketing', topic: meta.topic };
  }
  return out;
}

/** Preference-centre topic of each template in the catalog (null: none declared, e.g. transactional). */
export function topicOf(catalog: Record<string, TemplateRef>, templateId: string): string | null {
  return catalog[templateId]?.topic ?? null;
}

function frontMatter(text: string): { kind: 'marketing' | 'transactional'; topic: string | null } | null {
  const m = /^\uFEFF?---\r?\n([\s\S]*?)\r?\n---\r?\n?/.exec(text);
  if (!m) return null;
  try {
    const meta = YAML.parse(m[1]) as { kind?: unknown; topic?: unknown } | null;
    if (meta?.kind !== 'marketing' && meta?.kind !== 'transactional') return null;
    const topic = typeof meta.topic === 'string' && TOPIC_RE.test(meta.topic) ? meta.topic : null;
    return { kind: meta.kind, topic };
  } catch {
    return null;
  }
}

/** A topic is a short lower_snake_case name (it appears in the preference form and contact attributes). */
export const TOPIC_RE = /^[a-z][a-z0-9_]{0,39}$/;

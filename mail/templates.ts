/**
 * Loads email templates from `templates/`: `<id>.hbs` (YAML front matter + HTML body), an optional
 * `<id>.text.hbs` text part, `layouts/<name>.hbs` (+ optional `layouts/<name>.text.hbs`) and
 * `partials/<name>.hbs`. Pure file reading and parsing; compiling is render.ts's job.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { SURVEY_ID_RE, type SurveyScale } from './tokens';

export const DEFAULT_TEMPLATES_DIR = path.resolve(__dirname, '..', 'templates');

export type TemplateKind = 'marketing' | 'transactional';

export interface SourceFile {
  /** Absolute path, used in error messages. */
  file: string;
  /** The Handlebars source (front matter removed). */
  source: string;
  /** File line of the first source line, so template errors point at the real line. */
  firstLine: number;
  /** Content hash: the cache key of the compiled template (its "version"). */
  hash: string;
}

export interface EmailTemplate {
  id: string;
  kind: TemplateKind;
  marketing: boolean;
  subject: SourceFile;
  /** Layout name, or null for none. */
  layout: string | null;
  /** Preference-centre topic this email belongs to (marketing only), e.g. "offers". */
  topic: string | null;
  /** Hidden preview line shown by mail clients after the subject. */
  preheader: SourceFile | null;
  html: SourceFile;
  text: SourceFile | null;
  /** A survey email (`survey: { id, scale: csat | nps }`): its rating links (`{{surveyButtons}}`, `{{surveyUrl 4}}`) answer this survey. */
  survey: { id: string; scale: SurveyScale } | null;
}

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number | null,
    readonly column: number | null = null,
    readonly variable: string | null = null,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

function hashOf(...parts: string[]): string {
  const h = crypto.createHash('sha256');
  for (const p of parts) h.update(p).update('\0');
  return h.digest('hex').slice(0, 16);
}

/** Splits `---\nyaml\n---\nbody`. Returns the front matter text, the body and the body's first file line. */
export function splitFrontMatter(raw: string): { frontMatter: string | null; body: string; bodyLine: number } {
  const text = raw.replace(/^\uFEFF/, '');
  const m = /^---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/.exec(text);
  if (!m) return { frontMatter: null, body: text, bodyLine: 1 };
  const head = m[0];
  return { frontMatter: m[1], body: text.slice(head.length), bodyLine: head.split('\n').length };
}

function sourceFile(file: string, source: string, firstLine: number): SourceFile {
  return { file, source, firstLine, hash: hashOf(file, source) };
}

/** Reads one template file, validating the front matter. Throws TemplateError naming the file. */
export function loadTemplate(id: string, dir: string = DEFAULT_TEMPLATES_DIR): EmailTemplate {
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(id)) throw new TemplateError(`invalid template id "${id}"`, path.join(dir, `${id}.hbs`), null);
  const file = path.join(dir, `${id}.hbs`);
  let raw: string;
  try {
    raw = fs.readFileSync(file, 'utf8');
  } catch {
    throw new TemplateError(`template "${id}" not found`, file, null);
  }
  const { frontMatter, body, bodyLine } = splitFrontMatter(raw);
  if (frontMatter === null) throw new TemplateError('missing front matter (subject, kind)', file, 1);
  let meta: Record<string, unknown>;
  try {
    meta = (YAML.parse(frontMatter) ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new TemplateError(`front matter is not valid YAML: ${(err as Error).message}`, file, 2);
  }
  const lineOf = (key: string): number => {
    const idx = frontMatter.split('\n').findIndex((l) => l.startsWith(`${key}:`));
    return idx < 0 ? 2 : idx + 2;
  };
  if (typeof meta.subject !== 'string' || meta.subject.trim() === '') throw new TemplateError('front matter needs a "subject"', file, lineOf('subject'));
  if (meta.kind !== 'marketing' && meta.kind !== 'transactional') throw new TemplateError('front matter "kind" must be marketing or transactional', file, lineOf('kind'));
  let survey: EmailTemplate['survey'] = null;
  if (meta.survey !== undefined) {
    const sv = meta.survey as { id?: unknown; scale?: unknown } | null;
    if (!sv || typeof sv !== 'object' || typeof sv.id !== 'string' || !SURVEY_ID_RE.test(sv.id)) throw new TemplateError('front matter "survey" needs an id in lower_snake_case, e.g. survey: { id: order_csat, scale: csat }', file, lineOf('survey'));
    if (sv.scale !== 'csat' && sv.scale !== 'nps') throw new TemplateError('front matter "survey" scale must be csat (1-5 stars) or nps (0-10)', file, lineOf('survey'));
    survey = { id: sv.id, scale: sv.scale };
  }
  const layout = meta.layout === undefined || meta.layout === null || meta.layout === false ? null : String(meta.layout);
  const textFile = path.join(dir, `${id}.text.hbs`);
  const textRaw = fs.existsSync(textFile) ? fs.readFileSync(textFile, 'utf8') : null;
  return {
    id,
    kind: meta.kind,
    marketing: meta.kind === 'marketing',
    subject: sourceFile(file, meta.subject, lineOf('subject')),
    layout,
    topic: typeof meta.topic === 'string' ? meta.topic : null,
    preheader: typeof meta.preheader === 'string' ? sourceFile(file, meta.preheader, lineOf('preheader')) : null,
    html: sourceFile(file, body, bodyLine),
    text: textRaw === null ? null : sourceFile(textFile, textRaw, 1),
    survey,
  };
}

/** A layout's HTML and optional text form. */
export function loadLayout(name: string, dir: string = DEFAULT_TEMPLATES_DIR): { html: SourceFile; text: SourceFile | null } {
  const file = path.join(dir, 'layouts', `${name}.hbs`);
  if (!fs.existsSync(file)) throw new TemplateError(`layout "${name}" not found`, file, null);
  const textFile = path.join(dir, 'layouts', `${name}.text.hbs`);
  return {
    html: sourceFile(file, fs.readFileSync(file, 'utf8'), 1),
    text: fs.existsSync(textFile) ? sourceFile(textFile, fs.readFileSync(textFile, 'utf8'), 1) : null,
  };
}

/** All partials in `partials/`, by name (file basename without `.hbs`). */
export function loadPartials(dir: string = DEFAULT_TEMPLATES_DIR): Record<string, SourceFile> {
  const pdir = path.join(dir, 'partials');
  const out: Record<string, SourceFile> = {};
  if (!fs.existsSync(pdir)) return out;
  for (const f of fs.readdirSync(pdir).sort()) {
    if (!f.endsWith('.hbs')) continue;
    const file = path.join(pdir, f);
    out[f.slice(0, -'.hbs'.length)] = sourceFile(file, fs.readFileSync(file, 'utf8'), 1);
  }
  return out;
}

/** Template ids in the folder (`<id>.hbs`, not text parts, layouts or partials). */
export function listTemplateIds(dir: string = DEFAULT_TEMPLATES_DIR): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.hbs') && !f.endsWith('.text.hbs')).map((f) => f.slice(0, -'.hbs'.length)).sort();
}

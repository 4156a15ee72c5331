/**
 * Email rendering: one Handlebars environment per renderer, built once, strict, HTML-escaped, no
 * prototype access. Compiled templates are cached by content hash (the template "version"), so an
 * edited file is recompiled and an unchanged one never is. Errors name the file, line and variable.
 *
 *   template body --(layout: {{{body}}})--> html --(auto footer if marketing lacks one)--> html
 *   subject, preheader: rendered unescaped as plain strings; text: <id>.text.hbs or derived from html.
 */
import path from 'node:path';
import Handlebars from 'handlebars';
import type { Config } from '../lib/config';
import { HELPERS, type RenderContext } from './helpers';
import { htmlToText } from './html-text';
import { sendRefFor } from './headers';
import { LinkBuilder } from './links';
import { DEFAULT_TEMPLATES_DIR, TemplateError, loadLayout, loadPartials, loadTemplate, type EmailTemplate, type SourceFile } from './templates';
import { TokenSigner } from './tokens';
import { MAX_INTL_SCALAR } from '../rules/duration';

// Handlebars >= 4.6 denies prototype property access by default; we rely on that and never pass allowProto* options.
if (!/^4\.(?:[6-9]|\d{2,})\./.test(Handlebars.VERSION)) throw new Error(`handlebars ${Handlebars.VERSION} allows prototype access by default; 4.6+ required`);

/** Personal fields a template may use (`contact.*`). Missing ones are null, so `{{contact.firstName}}` never throws. */
export interface TemplateContact {
  id?: string;
  firstName?: string | null;
  lastName?: string | null;
  locale?: string | null;
  timezone?: string | null;
  [field: string]: unknown;
}

export interface TemplateData {
  contact: TemplateContact;
  /** The recipient address. Templates may show it; URLs never carry it. */
  email?: string | null;
  /** Step-provided variables (offerCode, ...). Strict: a missing one is an error naming the file and line. */
  vars?: Record<string, unknown>;
  /** Extra named links; unsubscribe/preferences/confirm/verify/openPixel are always available. */
  links?: Record<string, string>;
  /** The event that started the run, with the data its journey declares (`trigger.data.orderId`). Strict like vars. */
  trigger?: { name: string; data: Record<string, unknown> };
}

export interface RenderOptions {
  contactId: string;
  /** Send ledger key: carried by tracked links so events find the run and step. */
  sendKey?: string;
  now?: Date;
}

export interface RenderedEmail {
  templateId: string;
  /** Content hash of the template (its version). */
  version: string;
  subject: string;
  html: string;
  text: string;
  marketing: boolean;
  kind: EmailTemplate['kind'];
  topic: string | null;
  /** The https one-click unsubscribe URL, also used in the List-Unsubscribe header. */
  unsubscribeUrl: string;
  unsubscribeMailto: string;
}

export interface RendererOptions {
  templatesDir?: string;
  publicBaseUrl: string;
  secret: string;
  mailDomain: string;
  postalAddress: string;
  /** Subject prefix for advertising where the law asks for it, e.g. "(AD) " or "【广告】". Config MAIL_AD_PREFIX. */
  adPrefix?: string;
  /** Re-read template files at most this often (ms) so edits are picked up; 0 re-reads on every render. */
  reloadIntervalMs?: number;
  links?: LinkBuilder;
}

type Mode = 'html' | 'text';
type Compiled = (ctx: unknown, options?: Handlebars.RuntimeOptions) => string;

const KNOWN_HELPERS = Object.fromEntries(Object.keys(HELPERS).map((k) => [k, true])) as Record<string, true>;

const localeCache = new Map<string, string>();
const zoneCache = new Map<string, string>();
function normaliseLocale(raw: unknown): string {
  // Only short values reach Intl (a huge string takes seconds to reject); longer ones are not locales.
  const key = typeof raw === 'string' && raw && raw.length <= MAX_INTL_SCALAR ? raw : 'en';
  let v = localeCache.get(key);
  if (v === undefined) {
    try {
      v = Intl.getCanonicalLocales(key.replace('_', '-'))[0] ?? 'en';
    } catch {
      v = 'en';
    }
    localeCache.set(key, v);
  }
  return v;
}
function normaliseZone(raw: unknown): string {
  const key = typeof raw === 'string' && raw && raw.length <= MAX_INTL_SCALAR ? raw : 'UTC';
  let v = zoneCache.get(key);
  if (v === undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: key });
      v = key;
    } catch {
      v = 'UTC';
    }
    zoneCache.set(key, v);
  }
  return v;
}

function rel(file: string): string {
  const r = path.relative(process.cwd(), file);
  return r.startsWith('..') ? file : r;
}

/** The dotted path starting at a column of a source line, e.g. `vars.offerCode`. */
function pathAt(source: string, line: number, column: number): string | null {
  const text = source.split('\n')[line - 1];
  if (text === undefined) return null;
  const m = /^[@\w$][\w$.\-/[\]]*/.exec(text.slice(column));
  return m ? m[0] : null;
}

/** Turns a Handlebars/helper error into a TemplateError with file, line and the missing variable. */
export function toTemplateError(err: unknown, sf: SourceFile): TemplateError {
  if (err instanceof TemplateError) return err;
  const e = err as Error & { lineNumber?: number; column?: number };
  const msg = e?.message ?? String(err);
  const strict = /^"([^"]+)" not defined in/.exec(msg);
  if (strict && typeof e.lineNumber === 'number') {
    const col = typeof e.column === 'number' ? e.column : 0;
    const full = pathAt(sf.source, e.lineNumber, col);
    // Strict mode names the first missing segment; cut the path there ("vars.brand" of "vars.brand.name").
    const parts = full?.split('.') ?? [];
    const at = parts.indexOf(strict[1]);
    // "x not defined in undefined" means the parent of x is the missing one.
    const parentMissing = / not defined in (undefined|null)/.test(msg);
    const variable = full ? (at >= 0 ? parts.slice(0, parentMissing ? Math.max(at, 1) : at + 1).join('.') : full) : strict[1];
    const line = sf.firstLine + e.lineNumber - 1;
    return new TemplateError(`${rel(sf.file)}:${line}:${col + 1}: missing variable "${variable}" (strict mode: pass it in the data, or use {{fallback ${variable} "default"}})`, sf.file, line, col + 1, variable);
  }
  const reading = /Cannot read properties of (?:undefined|null) \(reading '([^']+)'\)/.exec(msg);
  if (reading) {
    // A missing parent object (strict mode only checks the last segment); find the expression in the source.
    const re = new RegExp(`\\{\\{[^}]*?([@\\w$.]*\\.${reading[1].replace(/[^\w$]/g, '')})\\b`);
    const lines = sf.source.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = re.exec(lines[i]);
      if (m) {
        const line = sf.firstLine + i;
        const variable = m[1].slice(0, m[1].lastIndexOf('.'));
        return new TemplateError(`${rel(sf.file)}:${line}: missing variable "${variable}" (needed for "${m[1]}")`, sf.file, line, null, variable);
      }
    }
    return new TemplateError(`${rel(sf.file)}: missing variable (reading "${reading[1]}")`, sf.file, null, null, reading[1]);
  }
  const parse = /Parse error on line (\d+)/.exec(msg);
  if (parse) {
    const line = sf.firstLine + Number(parse[1]) - 1;
    return new TemplateError(`${rel(sf.file)}:${line}: ${msg.replace(/Parse error on line \d+:/, 'syntax error:')}`, sf.file, line);
  }
  const line = typeof e?.lineNumber === 'number' ? sf.firstLine + e.lineNumber - 1 : null;
  return new TemplateError(`${rel(sf.file)}${line ? `:${line}` : ''}: ${msg}`, sf.file, line);
}

const BUILTIN_FOOTER = (unsubscribeUrl: string, postalAddress: string): string =>
  `<div class="footer" style="font:12px/1.5 Arial,sans-serif;color:#777;text-align:center;padding:16px">` +
  `<a href="${Handlebars.escapeExpression(unsubscribeUrl)}" style="color:#777">Unsubscribe</a><br>${Handlebars.escapeExpression(postalAddress)}</div>`;

export class EmailRenderer {
  readonly templatesDir: string;
  readonly links: LinkBuilder;
  private readonly hbs: typeof Handlebars = Handlebars.create();
  private readonly compiled = new Map<string, Compiled>();
  private readonly templates = new Map<string, { at: number; value: EmailTemplate }>();
  private readonly layouts = new Map<string, { at: number; value: ReturnType<typeof loadLayout> }>();
  /** A file read at most once per `reloadMs` (edits show up without a restart, a send does not re-read). */
  private fresh<T>(cache: Map<string, { at: number; value: T }>, key: string, load: () => T): T {
    const now = Date.now();
    const hit = cache.get(key);
    if (hit && now - hit.at < this.reloadMs) return hit.value;
    const value = load();
    cache.set(key, { at: now, value });
    return value;
  }
  private partialsAt = -Infinity;
  private partialHashes = new Map<string, string>();
  private readonly reloadMs: number;

  constructor(private readonly options: RendererOptions) {
    this.templatesDir = options.templatesDir ?? DEFAULT_TEMPLATES_DIR;
    this.reloadMs = options.reloadIntervalMs ?? 1000;
    this.links = options.links ?? new LinkBuilder(new TokenSigner(options.secret), options.publicBaseUrl, options.mailDomain);
    for (const [name, fn] of Object.entries(HELPERS)) this.hbs.registerHelper(name, fn);
  }

  /** Loads (or reuses) a template; throws TemplateError when it is missing or its front matter is invalid. */
  template(id: string): EmailTemplate {
    return this.fresh(this.templates, id, () => loadTemplate(id, this.templatesDir));
  }

  /** Renders subject, HTML and text for one contact. Throws TemplateError on template problems. */
  render(templateId: string, data: TemplateData, opts: RenderOptions): RenderedEmail {
    const tpl = this.template(templateId);
    this.refreshPartials();
    const contact: TemplateContact = { firstName: null, lastName: null, locale: null, timezone: null, ...data.contact };
    const locale = normaliseLocale(contact.locale);
    const ctx: RenderContext = {
      locale,
      lang: locale.split('-')[0].toLowerCase(),
      timeZone: normaliseZone(contact.timezone),
      links: this.links,
      link: opts.sendKey ? { contactId: opts.contactId, sendRef: sendRefFor(opts.sendKey) } : { contactId: opts.contactId },
      email: data.email ?? null,
      now: opts.now ?? new Date(),
      survey: tpl.survey,
      memo: new Map(),
    };
    const unsubscribeUrl = this.links.unsubscribeUrl(ctx.link, ctx.now);
    ctx.memo.set('unsubscribeUrl', unsubscribeUrl);
    const mail = { subject: '', preheader: '', marketing: tpl.marketing, postalAddress: this.options.postalAddress, lang: ctx.lang, locale, templateId };
    // Custom attributes are always an object, so `contact.attributes.x` with a fallback works for every contact.
    const root: Record<string, unknown> = { contact: { ...contact, attributes: contact.attributes ?? {} }, email: data.email ?? null, vars: data.vars ?? {}, trigger: data.trigger ?? { name: null, data: {} }, links: this.linkView(ctx, data.links), mail };
    const runtime = { data: { sojourn: ctx } };

    let subject = this.exec(tpl.subject, 'text', root, runtime).replace(/\s+/g, ' ').trim();
    const prefix = this.options.adPrefix ?? '';
    if (tpl.marketing && prefix && !subject.startsWith(prefix.trim())) subject = `${prefix}${subject}`;
    mail.subject = subject;
    mail.preheader = tpl.preheader ? this.exec(tpl.preheader, 'text', root, runtime).trim() : '';

    let html = this.exec(tpl.html, 'html', root, runtime);
    const layout = tpl.layout ? this.layout(tpl.layout) : null;
    if (layout) html = this.exec(layout.html, 'html', { ...root, body: new this.hbs.SafeString(html) }, runtime);
    if (tpl.marketing && !html.includes(Handlebars.escapeExpression(unsubscribeUrl))) html = this.appendFooter(html, root, runtime, unsubscribeUrl);

    let text: string;
    if (tpl.text) {
      text = this.exec(tpl.text, 'text', root, runtime);
      if (layout?.text) text = this.exec(layout.text, 'text', { ...root, body: text }, runtime);
      if (tpl.marketing && !text.includes(unsubscribeUrl)) text = `${text.trimEnd()}\n\n--\nUnsubscribe: ${unsubscribeUrl}\n${this.options.postalAddress}\n`;
    } else {
      text = htmlToText(html);
    }
    return {
      templateId,
      version: tpl.html.hash,
      subject,
      html,
      text,
      marketing: tpl.marketing,
      kind: tpl.kind,
      topic: tpl.topic,
      unsubscribeUrl,
      unsubscribeMailto: this.links.unsubscribeMailto(ctx.link, ctx.now),
    };
  }

  /** Number of compiled template functions held (tests assert the per-version cache). */
  get compiledCount(): number {
    return this.compiled.size;
  }

  private linkView(ctx: RenderContext, extra: Record<string, string> | undefined): Record<string, string> {
    const view: Record<string, string> = { ...(extra ?? {}) };
    const lazy = (name: string, kind: 'unsubscribeUrl' | 'preferencesUrl' | 'confirmUrl' | 'verifyUrl' | 'openPixelUrl') =>
      Object.defineProperty(view, name, {
        enumerable: true,
        get: () => {
          let url = ctx.memo.get(kind);
          if (url === undefined) {
            url = ctx.links[kind](ctx.link, ctx.now);
            ctx.memo.set(kind, url);
          }
          return url;
        },
      });
    lazy('unsubscribe', 'unsubscribeUrl');
    lazy('preferences', 'preferencesUrl');
    lazy('confirm', 'confirmUrl');
    lazy('verify', 'verifyUrl');
    lazy('openPixel', 'openPixelUrl');
    return view;
  }

  private appendFooter(html: string, root: Record<string, unknown>, runtime: Handlebars.RuntimeOptions, url: string): string {
    const partial = this.hbs.partials.footer as Compiled | undefined;
    const footer = partial ? partial(root, runtime) : BUILTIN_FOOTER(url, this.options.postalAddress);
    const at = html.lastIndexOf('</body>');
    return at >= 0 ? html.slice(0, at) + footer + html.slice(at) : html + footer;
  }

  private layout(name: string): ReturnType<typeof loadLayout> {
    return this.fresh(this.layouts, name, () => loadLayout(name, this.templatesDir));
  }

  private refreshPartials(): void {
    const now = Date.now();
    if (now - this.partialsAt < this.reloadMs) return;
    this.partialsAt = now;
    const partials = loadPartials(this.templatesDir);
    for (const [name, sf] of Object.entries(partials)) {
      if (this.partialHashes.get(name) === sf.hash) continue;
      const fn = this.compile(sf, 'html');
      // A partial is a function here so its errors are reported against the partial's own file.
      this.hbs.registerPartial(name, ((ctx: unknown, options?: Handlebars.RuntimeOptions) => {
        try {
          return fn(ctx, options);
        } catch (err) {
          throw toTemplateError(err, sf);
        }
      }) as unknown as Handlebars.Template);
      this.partialHashes.set(name, sf.hash);
    }
  }

  private compile(sf: SourceFile, mode: Mode): Compiled {
    const key = `${mode}:${sf.hash}`;
    let fn = this.compiled.get(key);
    if (!fn) {
      try {
        fn = this.hbs.compile(sf.source, { strict: true, noEscape: mode === 'text', knownHelpers: KNOWN_HELPERS }) as Compiled;
      } catch (err) {
        throw toTemplateError(err, sf);
      }
      this.compiled.set(key, fn);
    }
    return fn;
  }

  private exec(sf: SourceFile, mode: Mode, ctx: unknown, runtime: Handlebars.RuntimeOptions): string {
    const fn = this.compile(sf, mode);
    try {
      return fn(ctx, runtime);
    } catch (err) {
      throw toTemplateError(err, sf);
    }
  }
}

/** Renderer options from the loaded configuration. */
export function rendererOptionsFrom(config: Pick<Config, 'publicBaseUrl' | 'secret' | 'mailDomain' | 'postalAddress'>, templatesDir?: string): RendererOptions {
  return { templatesDir, publicBaseUrl: config.publicBaseUrl, secret: config.secret, mailDomain: config.mailDomain, postalAddress: config.postalAddress };
}

const shared = new Map<string, EmailRenderer>();

/**
 * Renders an email with a renderer shared per (config, templates folder). Returns subject, HTML,
 * text and whether it is marketing. Throws TemplateError naming file, line and missing variable.
 */
export function renderEmail(
  templateId: string,
  data: TemplateData,
  opts: RenderOptions & { config: Pick<Config, 'publicBaseUrl' | 'secret' | 'mailDomain' | 'postalAddress'>; templatesDir?: string },
): RenderedEmail {
  const ro = rendererOptionsFrom(opts.config, opts.templatesDir);
  const key = JSON.stringify(ro);
  let r = shared.get(key);
  if (!r) {
    r = new EmailRenderer(ro);
    shared.set(key, r);
  }
  return r.render(templateId, data, opts);
}

/**
 * The documented Handlebars helper set (docs/delivery.md). Helpers read the per-render context
 * (locale, time zone, link builder) from `@sojourn` in the Handlebars data frame, so one
 * environment serves every contact without global state.
 */
import Handlebars, { type HelperDelegate, type HelperOptions } from 'handlebars';
import type { LinkBuilder, LinkContext } from './links';
import { scoreOnScale, SURVEY_SCALES, type SurveyScale } from './tokens';

export interface RenderContext {
  locale: string;
  /** Language subtag of the locale, lower-case: "en", "zh". */
  lang: string;
  timeZone: string;
  links: LinkBuilder;
  link: LinkContext;
  /** Address of the recipient: trackedLink refuses targets that contain it. */
  email: string | null;
  now: Date;
  /** The template's survey (front matter `survey:`), for the rating-link helpers; null in other emails. */
  survey: { id: string; scale: SurveyScale } | null;
  /** Memoised per render so the unsubscribe URL in the footer and in the headers are the same. */
  memo: Map<string, string>;
}

function ctxOf(options: HelperOptions | undefined): RenderContext {
  const ctx = (options?.data as { sojourn?: RenderContext } | undefined)?.sojourn;
  if (!ctx) throw new Error('helper called outside an email render');
  return ctx;
}

/** Handlebars passes its options object as the last argument; split it from the real arguments. */
function split(args: unknown[]): { values: unknown[]; options: HelperOptions } {
  return { values: args.slice(0, -1), options: args[args.length - 1] as HelperOptions };
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();
const numberFormats = new Map<string, Intl.NumberFormat>();

type DateStyle = 'full' | 'long' | 'medium' | 'short';
const DATE_STYLES = new Set(['full', 'long', 'medium', 'short']);

function toDate(value: unknown): Date | null {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value;
  if (typeof value === 'string' || typeof value === 'number') {
    const d = new Date(value);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

export function formatDate(value: unknown, ctx: Pick<RenderContext, 'locale' | 'timeZone'>, style: string = 'long', time?: string): string {
  const date = toDate(value);
  if (!date) return '';
  const dateStyle = (DATE_STYLES.has(style) ? style : 'long') as DateStyle;
  const timeStyle = time && DATE_STYLES.has(time) ? (time as DateStyle) : undefined;
  const key = `${ctx.locale}|${ctx.timeZone}|${dateStyle}|${timeStyle ?? ''}`;
  let fmt = dateFormats.get(key);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat(ctx.locale, { dateStyle, timeStyle, timeZone: ctx.timeZone });
    dateFormats.set(key, fmt);
  }
  return fmt.format(date);
}

export function formatNumber(value: unknown, locale: string, opts: Intl.NumberFormatOptions = {}): string {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n)) return '';
  const key = `${locale}|${JSON.stringify(opts)}`;
  let fmt = numberFormats.get(key);
  if (!fmt) {
    fmt = new Intl.NumberFormat(locale, opts);
    numberFormats.set(key, fmt);
  }
  return fmt.format(n);
}

function linkHelper(kind: 'unsubscribeUrl' | 'preferencesUrl' | 'confirmUrl' | 'verifyUrl' | 'openPixelUrl'): HelperDelegate {
  return (...args: unknown[]) => {
    const ctx = ctxOf(split(args).options);
    let url = ctx.memo.get(kind);
    if (url === undefined) {
      url = ctx.links[kind](ctx.link, ctx.now);
      ctx.memo.set(kind, url);
    }
    return url;
  };
}

function surveyUrlFor(ctx: RenderContext, score: unknown): string {
  if (!ctx.survey) throw new Error('surveyUrl: this template declares no survey (front matter survey: { id, scale })');
  const n = typeof score === 'string' && /^\d+$/.test(score) ? Number(score) : score;
  if (!scoreOnScale(ctx.survey.scale, n)) throw new Error(`surveyUrl: ${String(score)} is not a score of a ${ctx.survey.scale} survey`);
  return ctx.links.surveyUrl({ id: ctx.survey.id, scale: ctx.survey.scale, score: n }, ctx.link, ctx.now);
}

const STAR_LABEL: Record<string, string[]> = {
  en: ['Very poor', 'Poor', 'OK', 'Good', 'Excellent'],
  zh: ['很差', '较差', '一般', '满意', '非常满意'],
};

/** Helper name -> implementation. Keep docs/delivery.md in step with this table. */
export const HELPERS = {
  /** {{fallback contact.firstName "friend"}}: the value, or the default when missing or blank. */
  fallback: (...args: unknown[]) => {
    const { values } = split(args);
    const [value, dflt] = values;
    if (value === null || value === undefined || (typeof value === 'string' && value.trim() === '')) return dflt ?? '';
    return value;
  },
  /** {{formatDate vars.expiresAt "long"}} or {{formatDate d "short" time="short"}}: in the contact's locale and time zone. */
  formatDate: (...args: unknown[]) => {
    const { values, options } = split(args);
    const ctx = ctxOf(options);
    const hash = (options.hash ?? {}) as { time?: string };
    return formatDate(values[0], ctx, typeof values[1] === 'string' ? values[1] : 'long', hash.time);
  },
  /** {{formatNumber n}} / {{formatNumber n maximumFractionDigits=1}}: in the contact's locale. */
  formatNumber: (...args: unknown[]) => {
    const { values, options } = split(args);
    return formatNumber(values[0], ctxOf(options).locale, (options.hash ?? {}) as Intl.NumberFormatOptions);
  },
  /** {{formatCurrency amount "CNY"}}: a money amount in the contact's locale. */
  formatCurrency: (...args: unknown[]) => {
    const { values, options } = split(args);
    const currency = typeof values[1] === 'string' ? values[1] : 'USD';
    return formatNumber(values[0], ctxOf(options).locale, { style: 'currency', currency });
  },
  /** {{t en="Hello" zh="你好"}}: the text for the contact's language (falls back to en). */
  t: (...args: unknown[]) => {
    const { options } = split(args);
    const ctx = ctxOf(options);
    const hash = (options.hash ?? {}) as Record<string, unknown>;
    const pick = hash[ctx.locale] ?? hash[ctx.lang] ?? hash.en ?? Object.values(hash)[0] ?? '';
    return String(pick);
  },
  /** {{#ifLang "zh"}}...{{else}}...{{/ifLang}}: a block per language. */
  ifLang: function (this: unknown, ...args: unknown[]) {
    const { values, options } = split(args);
    const ctx = ctxOf(options);
    return values.includes(ctx.lang) || values.includes(ctx.locale) ? options.fn(this) : options.inverse(this);
  },
  /** {{#if (eq vars.plan "pro")}}: strict equality. */
  eq: (...args: unknown[]) => {
    const { values } = split(args);
    return values[0] === values[1];
  },
  /** {{trackedLink "https://shop.example.com/new"}}: the signed click-redirect URL for the target. */
  trackedLink: (...args: unknown[]) => {
    const { values, options } = split(args);
    const ctx = ctxOf(options);
    const target = String(values[0] ?? '');
    if (ctx.email) {
      const lower = target.toLowerCase();
      const addr = ctx.email.toLowerCase();
      if (lower.includes(addr) || lower.includes(encodeURIComponent(addr))) throw new Error('trackedLink: the target URL contains the recipient address; links must carry ids, not email addresses');
    }
    return ctx.links.trackedUrl(target, ctx.link, ctx.now);
  },
  /** {{surveyUrl 4}}: the signed rating link for that score (survey templates only). */
  surveyUrl: (...args: unknown[]) => {
    const { values, options } = split(args);
    return surveyUrlFor(ctxOf(options), values[0]);
  },
  /** {{surveyButtons}}: one link per score (1-5 stars, or 0-10), each opening the survey page with it preselected. */
  surveyButtons: (...args: unknown[]) => {
    const ctx = ctxOf(split(args).options);
    if (!ctx.survey) throw new Error('surveyButtons: this template declares no survey (front matter survey: { id, scale })');
    const { min, max } = SURVEY_SCALES[ctx.survey.scale];
    const esc = Handlebars.escapeExpression;
    const cells: string[] = [];
    for (let n = min; n <= max; n++) {
      const label = ctx.survey.scale === 'csat' ? `${'★'.repeat(n)}${'☆'.repeat(max - n)}` : String(n);
      const title = ctx.survey.scale === 'csat' ? (STAR_LABEL[ctx.lang] ?? STAR_LABEL.en)[n - 1] : String(n);
      cells.push(`<a href="${esc(surveyUrlFor(ctx, n))}" title="${esc(title)}" style="display:inline-block;margin:2px;padding:8px 10px;border:1px solid #2f6f5e;border-radius:6px;color:#2f6f5e;text-decoration:none;font-size:18px">${esc(label)}</a>`);
    }
    return new Handlebars.SafeString(`<p class="survey" style="margin:16px 0">${cells.join(ctx.survey.scale === 'csat' ? '<br>' : ' ')}</p>`);
  },
  unsubscribeUrl: linkHelper('unsubscribeUrl'),
  preferencesUrl: linkHelper('preferencesUrl'),
  confirmUrl: linkHelper('confirmUrl'),
  verifyUrl: linkHelper('verifyUrl'),
  openPixelUrl: linkHelper('openPixelUrl'),
} satisfies Record<string, HelperDelegate>;

export type HelperName = keyof typeof HELPERS;

/**
 * Template variables checked at validate time: every variable a template uses must be something the
 * renderer provides for every journey that sends it. Pure: the uses come from the template parser
 * (mail/template-variables.ts), the journey's side (its declared trigger data) from the checker.
 *
 * What a template sees (mail/render.ts): `contact` (the contact view without address, consent or email
 * status), `email`, `trigger` (`name`, `data.<declared field>`), `vars` (no step provides any yet),
 * `links` (unsubscribe, preferences, confirm, verify, openPixel), `mail` (subject, preheader, ...) and,
 * in layouts, `body`. A use is *optional* when a missing value is handled (`{{fallback x "..."}}`,
 * `{{#if x}}`); everything else must be provided, since strict mode fails the send on a missing value
 * and a helper silently prints nothing.
 */
import { CONTACT_FIELDS } from './contact-schema';
import type { Diagnostic } from './diagnostics';

/** One variable use in a template file: the dotted path and where it is (1-based line and column). */
export interface TemplateVarUse { path: string; optional: boolean; file: string; line: number; col: number; layout?: boolean }

/** Contact paths a template gets (render's contact = the contact view minus address, consent and email status). */
const CONTACT_PATHS = CONTACT_FIELDS.map((f) => f.path).filter((p) => !p.startsWith('consent.') && p !== 'emailStatus');
const LINKS = ['unsubscribe', 'preferences', 'confirm', 'verify', 'openPixel'];
const MAIL = ['subject', 'preheader', 'marketing', 'postalAddress', 'lang', 'locale', 'templateId'];

const isPrefixOf = (path: string, of: string[]) => of.some((p) => p === path || p.startsWith(`${path}.`));

/** Why a use cannot be provided whatever the journey, or null. Trigger data is per journey (`triggerProblem`). */
export function useProblem(u: TemplateVarUse): string | null {
  const [root, ...rest] = u.path.split('.');
  const sub = rest.join('.');
  switch (root) {
    case 'contact':
      if (rest[0] === 'attributes' && rest.length > 1) {
        return u.optional ? null : `"${u.path}" is a custom attribute, which not every contact has: write {{fallback ${u.path} "..."}} or put it under {{#if ${u.path}}}.`;
      }
      return !sub || isPrefixOf(sub, CONTACT_PATHS) || sub === 'attributes' ? null
        : `the contact has no field "${sub}" in templates (they get ${CONTACT_PATHS.filter((p) => !p.includes('.')).join(', ')}, engagement.*, attributes.*; no address, consent or email status).`;
    case 'email': return rest.length ? `"email" is the address (text) and has no "${sub}".` : null;
    case 'trigger': return !sub || sub === 'name' || sub === 'data' || rest[0] === 'data' ? null : `trigger has name and data only, not "${sub}".`;
    case 'vars': return u.optional || !sub ? null : `no journey step provides "${u.path}": write {{fallback ${u.path} "..."}} or put it under {{#if ${u.path}}}.`;
    case 'links': return !sub || LINKS.includes(rest[0]) ? null : `there is no link "${rest[0]}" (links are ${LINKS.join(', ')}).`;
    case 'mail': return !sub || MAIL.includes(rest[0]) ? null : `mail has no "${rest[0]}" (it has ${MAIL.join(', ')}).`;
    case 'body': return u.layout ? null : '"body" exists only in layouts.';
    default: return `"${root}" is not a variable templates get (contact, email, trigger, vars, links, mail).`;
  }
}

/** Why a journey declaring `dataFields` cannot provide this use, or null. */
export function triggerProblem(u: TemplateVarUse, journeyId: string, dataFields: string[]): string | null {
  const parts = u.path.split('.');
  if (parts[0] !== 'trigger' || parts[1] !== 'data' || parts.length < 3) return null;
  if (dataFields.includes(parts[2])) return null;
  return `journey ${journeyId} sends this template but its trigger declares ${dataFields.length ? `data ${dataFields.join(', ')}` : 'no data'}, so "${u.path}" is never there. Declare it in the journey (\`trigger: { data: { ${parts[2]}: string } }\`) or remove it from the template.`;
}

/** The diagnostic for a use, at the template's file:line:col. */
export function templateDiagnostic(u: TemplateVarUse, message: string): Diagnostic {
  const len = Math.max(1, u.path.length);
  return {
    code: 'E_TEMPLATE_VARIABLE', severity: 'error', file: u.file,
    message: `The template uses ${u.path}, which cannot be provided: ${message}`,
    range: { start: { line: u.line, col: u.col }, end: { line: u.line, col: u.col + len } },
  };
}

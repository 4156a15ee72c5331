/**
 * The text part of an email, derived from its HTML when the template has no `.text.hbs`.
 * Uses html-to-text (maintained; the converter mailparser itself depends on).
 */
// html-to-text ships no type declarations; this is the one function we use.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { compile } = require('html-to-text') as { compile: (options?: Record<string, unknown>) => (html: string) => string };

const OPTIONS = {
  wordwrap: 78,
  selectors: [
    { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['<', '>'] } },
    { selector: 'img', format: 'skip' },
    { selector: '.preheader', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
  ],
};

const convert = compile(OPTIONS);

/** Readable plain text for an HTML email: links kept as `text <url>`, images and the preheader dropped. */
export function htmlToText(html: string): string {
  return convert(html).replace(/\n{3,}/g, '\n\n').trim() + '\n';
}

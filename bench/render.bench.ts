/**
 * Rendering benchmark: renders per second of a realistic marketing email (welcome_offer: front
 * matter subject and preheader, the default layout, footer and button partials, tracked and signed
 * links, locale formatting, and a text part derived from the HTML), against calling precompiled
 * Handlebars templates for the same body and layout directly, in the same run.
 *
 *   npx tsx bench/render.bench.ts [seconds per phase, default 3]
 */
import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { htmlToText } from '../mail/html-text';
import { EmailRenderer, type TemplateData } from '../mail/render';
import { DEFAULT_TEMPLATES_DIR, splitFrontMatter } from '../mail/templates';

const seconds = Number(process.argv[2] ?? 3);
const TEMPLATE = 'welcome_offer';

const data: TemplateData = {
  contact: { id: '665f1c2b9a7e4a0012345678', firstName: 'Ana', lastName: 'Li', locale: 'en-GB', timezone: 'Europe/London' },
  email: 'ana.li@example.com',
  vars: { offerCode: 'WELCOME15', discountPercent: 15, expiresAt: '2026-12-31T23:59:00Z' },
};

function measure(label: string, fn: (i: number) => void): number {
  const warmUntil = Date.now() + 700; // warm up (JIT, caches) before measuring
  for (let i = 0; Date.now() < warmUntil; i++) fn(i);
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let k = 0; k < 50; k++) fn(n++);
    elapsed = process.hrtime.bigint() - start;
  }
  const perSec = n / (Number(elapsed) / 1e9);
  console.log(`${label.padEnd(58)} ${perSec.toFixed(0).padStart(9)} renders/s  (${(1e6 / perSec).toFixed(1)} µs each)`);
  return perSec;
}

const renderer = new EmailRenderer({ publicBaseUrl: 'https://go.sojourn.test', secret: 'bench', mailDomain: 'sojourn.test', postalAddress: 'Sojourn Ltd, 1 Example Road, Shanghai', reloadIntervalMs: 1000 });

// The baseline: the same body and layout precompiled once and called directly with plain helpers.
const hb = Handlebars.create();
const raw = fs.readFileSync(path.join(DEFAULT_TEMPLATES_DIR, `${TEMPLATE}.hbs`), 'utf8');
const body = hb.compile(splitFrontMatter(raw).body);
const layout = hb.compile(fs.readFileSync(path.join(DEFAULT_TEMPLATES_DIR, 'layouts/default.hbs'), 'utf8'));
for (const f of fs.readdirSync(path.join(DEFAULT_TEMPLATES_DIR, 'partials'))) hb.registerPartial(f.replace(/\.hbs$/, ''), fs.readFileSync(path.join(DEFAULT_TEMPLATES_DIR, 'partials', f), 'utf8'));
const plain = (...args: unknown[]) => String(args[0] ?? '');
for (const name of ['fallback', 'formatNumber', 'formatDate', 'trackedLink']) hb.registerHelper(name, plain);
hb.registerHelper('t', (opts: Handlebars.HelperOptions) => String((opts.hash as Record<string, string>).en));
for (const name of ['unsubscribeUrl', 'preferencesUrl', 'openPixelUrl']) hb.registerHelper(name, () => 'https://go.sojourn.test/u/x');
const mail = { subject: 'A welcome gift', preheader: 'Use your code', marketing: true, postalAddress: 'Sojourn Ltd', locale: 'en-GB' };

console.log(`template ${TEMPLATE}, ${seconds}s per phase, node ${process.version}`);
const baseline = measure('precompiled Handlebars body+layout, called directly', () => {
  layout({ ...data, mail, body: new hb.SafeString(body(data)) });
});
const full = measure('renderEmail: subject + HTML (layout, partials, signed links) + text', (i) => {
  renderer.render(TEMPLATE, data, { contactId: String(data.contact.id), sendKey: `journey/welcome/${data.contact.id}:s${i}:0` });
});
console.log(`ratio: renderEmail is ${(baseline / full).toFixed(1)}x slower than the direct precompiled call (${((full / baseline) * 100).toFixed(1)}% of its throughput)`);

// Where the time goes: deriving the text part from HTML (html-to-text) dominates; templates with a
// written <id>.text.hbs skip it.
const sample = renderer.render(TEMPLATE, data, { contactId: 'c', sendKey: 'k' }).html;
measure('  of which: html-to-text on the rendered HTML alone', () => void htmlToText(sample));
const written = measure('renderEmail of double_optin (written .text.hbs, no derivation)', (i) => {
  renderer.render('double_optin', data, { contactId: String(data.contact.id), sendKey: `journey/optin/${data.contact.id}:s${i}:0` });
});
console.log(`ratio with a written text part: ${(baseline / written).toFixed(1)}x the direct precompiled call`);

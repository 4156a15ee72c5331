/**
 * DSL benchmark (bounded, < 60 s): `npx tsx bench/dsl.bench.ts`
 *  1. evaluations/sec of compiled expressions (rules/evaluate) vs the CEL library's own one-shot
 *     `env.evaluate(source, context)` of the same expressions, in the same run, and vs calling the
 *     library's parsed program directly (our binding overhead);
 *  2. time to validate 1,000 journey files (compileProject over copies of the shipped journeys).
 */
import fs from 'node:fs';
import path from 'node:path';
import { celEnvironment, toActivation } from '../rules/cel-env';
import { compileExpression, compileProject, evaluate, type ContactView, type SourceFile } from '../rules';
import { readTemplateCatalog } from '../mail/template-catalog';

const NOW = new Date('2026-05-15T12:00:00Z');
const contact: ContactView = {
  id: 'c1', externalId: null, emailDomain: 'example.com', emailStatus: 'verified', emailVerifiedAt: new Date('2025-01-01T00:00:00Z'),
  emailRole: false, emailDisposable: false, firstName: 'Ana', lastName: 'Li', locale: 'zh-CN', timezone: 'Asia/Shanghai',
  birthdayMonth: 5, birthdayDay: 15, tags: ['vip', 'onboarded'], consent: { email: 'subscribed', sms: 'unknown', phone: 'unknown' },
  source: 'signup_form', channel: 'organic', lifecycle: 'active', importance: 'vip', rfm: 'champions', businessType: 'after_sales', rfmScore: { recency: 4, frequency: 4, monetary: 4 },
  engagement: { opens: 12, clicks: 4, orders: 7, revenue: 1234.5, lastOpenAt: new Date('2026-05-01T00:00:00Z'), lastClickAt: null, lastOrderAt: new Date('2026-04-01T00:00:00Z') },
  lastActivityAt: new Date('2026-05-01T00:00:00Z'), createdAt: new Date('2024-01-01T00:00:00Z'), attributes: { plan: 'pro' }, owner: null, surveys: {},
};
const bindings = { contact, now: NOW };
const EXPRESSIONS = [
  'contact.consent.email == "subscribed"',
  'contact.consent.email != "subscribed" || contact.emailStatus in ["bounced", "complained", "invalid"]',
  'daysSince(contact.lastActivityAt) > 90 && contact.emailStatus == "verified"',
  'contact.engagement.revenue >= 1000.0 || contact.engagement.orders >= 10 || "vip" in contact.tags',
  'hasTag(contact, "vip") && contact.engagement.lastClickAt == null',
  'contact.engagement.lastOpenAt == null || contact.engagement.lastOpenAt < ago(days(30))',
  'contact.tags.exists(t, t.startsWith("on"))',
  'isBirthdayToday(contact)',
];

function rate(fn: () => void, ms = 400): number {
  for (let i = 0; i < 200; i++) fn(); // warm-up
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    elapsed = performance.now() - start;
  }
  return (n / elapsed) * 1000;
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US').padStart(12);

function main(): void {
  const env = celEnvironment();
  console.log('Expression evaluation (evaluations/sec, higher is better)');
  console.log(`${'expression'.padEnd(60)} ${'compiled'.padStart(12)} ${'lib one-shot'.padStart(12)} ${'ratio'.padStart(7)} ${'lib parsed'.padStart(12)}`);
  let sumCompiled = 0;
  let sumOneShot = 0;
  for (const src of EXPRESSIONS) {
    const compiled = compileExpression(src);
    const program = env.parse(src);
    const compiledRate = rate(() => { evaluate(compiled, bindings); });
    // The library's own one-shot evaluation of the same source and context (parse + check + run).
    const oneShotRate = rate(() => { env.evaluate(src, toActivation(bindings)); });
    const parsedRate = rate(() => { program(toActivation(bindings)); });
    sumCompiled += compiledRate;
    sumOneShot += oneShotRate;
    const label = src.length > 58 ? `${src.slice(0, 57)}…` : src;
    console.log(`${label.padEnd(60)} ${fmt(compiledRate)} ${fmt(oneShotRate)} ${(compiledRate / oneShotRate).toFixed(1).padStart(6)}x ${fmt(parsedRate)}`);
  }
  console.log(`${'average'.padEnd(60)} ${fmt(sumCompiled / EXPRESSIONS.length)} ${fmt(sumOneShot / EXPRESSIONS.length)} ${(sumCompiled / sumOneShot).toFixed(1).padStart(6)}x`);

  // Validation throughput: 1,000 journey files (copies of the shipped ones with distinct ids) + the rules file.
  const dir = path.join(__dirname, '..', 'journeys');
  const shipped = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml') && !f.includes('.scenarios.') && !f.endsWith('.rules.yaml'))
    .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
  const rules: SourceFile = { path: 'journeys/crm.rules.yaml', text: fs.readFileSync(path.join(dir, 'crm.rules.yaml'), 'utf8') };
  const files: SourceFile[] = [rules];
  for (let i = 0; i < 1000; i++) {
    const text = shipped[i % shipped.length].replace(/^journey: (\w+)/m, (_m, id: string) => `journey: ${id}_${i}`);
    files.push({ path: `bench/j${i}.yaml`, text });
  }
  const templates = readTemplateCatalog(path.join(__dirname, '..', 'templates'));
  compileProject(files.slice(0, 20), { templates }); // warm-up
  const t0 = performance.now();
  const result = compileProject(files, { templates });
  const ms = performance.now() - t0;
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  console.log(`\nValidated 1,000 journey files (+1 rules file) in ${ms.toFixed(0)} ms (${(ms / 1000).toFixed(2)} ms/file), ` +
    `${Object.keys(result.plans).length} plans, ${errors} errors`);
}

main();

/**
 * Fuzz: journey YAML. Mutations of the shipped journeys and rules (characters, lines, values, YAML
 * structure, alias bombs, deep nesting, huge scalars) go through the real compiler: it never throws,
 * always answers with diagnostics or a plan, and never takes over a second.
 */
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { compileProject, type TemplateRef } from '../../rules';
import { report, runCase, tally } from './harness';

const dir = path.join(__dirname, '..', '..', 'journeys');
const sources = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && !f.includes('scenarios')).map((f) => ({ path: `journeys/${f}`, text: fs.readFileSync(path.join(dir, f), 'utf8') }));
const templates: Record<string, TemplateRef> = Object.fromEntries(fs.readdirSync(path.join(__dirname, '..', '..', 'templates')).filter((f) => /^[a-z_]+\.hbs$/.test(f))
  .map((f) => f.replace('.hbs', '')).map((id) => [id, { id, marketing: !['double_optin', 'verify_email', 'verify_reminder'].includes(id), topic: 'news' }]));

const pieces = ['\n', ': ', '- ', '{', '}', '[', ']', '"', "'", '#', '&a ', '*a', '!!str ', '? ', '|\n', '>\n', '\t', '  ', '\u0000', '\uFEFF', '%YAML 1.2\n', '---\n', '...\n',
  'when: ', 'contact.', '.matches("', '(a+)+$")', ' && ', ' || ', '!', 'wait: ', '1d', '-1d', '99999999999d', 'send: ', 'steps:', 'trigger:', 'timezone: ', 'Europe/Paris', '__proto__: ', 'constructor: ', 'toString: '];

const mutation: fc.Arbitrary<(text: string) => string> = fc.oneof(
  fc.tuple(fc.nat(), fc.nat({ max: 20 })).map(([i, n]) => (t: string) => { const k = i % (t.length + 1); return t.slice(0, k) + t.slice(k + n); }),
  fc.tuple(fc.nat(), fc.constantFrom(...pieces)).map(([i, p]) => (t: string) => { const k = i % (t.length + 1); return t.slice(0, k) + p + t.slice(k); }),
  fc.tuple(fc.nat(), fc.string({ maxLength: 30 })).map(([i, p]) => (t: string) => { const k = i % (t.length + 1); return t.slice(0, k) + p + t.slice(k); }),
  fc.tuple(fc.nat(), fc.nat()).map(([a, b]) => (t: string) => { const ls = t.split('\n'); const x = a % ls.length; ls.splice(b % ls.length, 0, ls[x]); return ls.join('\n'); }),
  fc.nat().map((a) => (t: string) => { const ls = t.split('\n'); ls.splice(a % ls.length, 1); return ls.join('\n'); }),
  fc.tuple(fc.nat(), fc.constantFrom(...pieces), fc.integer({ min: 100, max: 5000 })).map(([i, p, n]) => (t: string) => { const k = i % (t.length + 1); return t.slice(0, k) + p.repeat(n) + t.slice(k); }),
  fc.nat().map((i) => (t: string) => t.replace(/: [^\n]+/g, (m, off: number) => (off % 7 === i % 7 ? `: ${'9'.repeat(400)}` : m))),
  fc.constant((t: string) => `a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n${t}`),
  fc.integer({ min: 100, max: 5000 }).map((n) => (t: string) => `${t}\nx: ${'['.repeat(n)}${']'.repeat(n)}\n`),
  fc.integer({ min: 2000, max: 8000 }).map((n) => (t: string) => t.replace(/when: [^\n]+/, `when: contact.engagement.opens ${'+ 1 '.repeat(n)}> 1`)),
  fc.constant((t: string) => t.replace(/timezone: [^\n]+/, `timezone: Europe/${'Paris'.repeat(20_000)}`)),
);

describe('fuzz: journey YAML', () => {
  it('compiles 400 mutated journey and rules files without a throw or a hang', async () => {
    const t = tally();
    let plans = 0;
    const cases = fc.sample(fc.tuple(fc.nat(sources.length - 1), fc.array(mutation, { minLength: 1, maxLength: 4 })), { numRuns: Number(process.env.FUZZ_N ?? 400), seed: 777 });
    for (const [i, ms] of cases) {
      const target = sources[i];
      const text = ms.reduce((x, m) => m(x), target.text);
      // The mutated file with the rules files it may refer to.
      const files = [...sources.filter((s) => s !== target && s.path.endsWith('.rules.yaml')), { path: target.path, text }];
      await runCase(t, text, () => compileProject(files, { templates }), (r) => {
        if (!Array.isArray(r.diagnostics)) return 'no diagnostics array';
        if (Object.keys(r.plans).length) plans++;
        return r.diagnostics.some((d) => !d.code || !d.range) ? 'a diagnostic without code or range' : null;
      });
    }
    console.log(report('journey YAML', t, `${plans} still produced plans`));
    expect(t.failures).toEqual([]);
    expect(t.cases).toBe(Number(process.env.FUZZ_N ?? 400));
  }, 300_000);
});

/**
 * Golden tests: every invalid file in test/golden/ has its expected `validate` output checked in
 * next to it (<case>.expected.txt). Regenerate with UPDATE_GOLDEN=1 after an intended change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { compileProject, DIAGNOSTIC_CODES, formatDiagnostic, type TemplateRef } from '../../../rules';

const dir = path.join(__dirname, '..', '..', 'golden');
const fixture = { path: 'test/golden/_fixture.rules.yaml', text: fs.readFileSync(path.join(dir, '_fixture.rules.yaml'), 'utf8') };
// A fixed catalog, so the goldens don't move when templates/ changes.
// `promo_no_topic` is a marketing template whose front matter forgot its topic.
const templates: Record<string, TemplateRef> = Object.fromEntries(
  [['welcome', true], ['welcome_tips', true], ['welcome_offer', true], ['birthday', true], ['winback', true],
    ['winback_last_chance', true], ['double_optin', false], ['verify_email', false], ['verify_reminder', false], ['promo_no_topic', true]]
    .map(([id, marketing]) => [id, { id: id as string, marketing: marketing as boolean, topic: marketing && id !== 'promo_no_topic' ? 'news' : null }]));

const cases = fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && !f.startsWith('_')).sort();

function render(file: string): { text: string; codes: string[] } {
  const rel = `test/golden/${file}`;
  const source = fs.readFileSync(path.join(dir, file), 'utf8');
  const result = compileProject([fixture, { path: rel, text: source }], { templates });
  const mine = result.diagnostics.filter((d) => d.file === rel);
  return { text: `${mine.map((d) => formatDiagnostic(d, source)).join('\n\n')}\n`, codes: mine.map((d) => d.code) };
}

describe('golden diagnostics', () => {
  const seen = new Set<string>();

  it.each(cases)('%s prints exactly its expected diagnostics', (file) => {
    const { text, codes } = render(file);
    codes.forEach((c) => seen.add(c));
    const expectedFile = path.join(dir, file.replace(/\.ya?ml$/, '.expected.txt'));
    expect(codes.length).toBeGreaterThan(0);
    if (process.env.UPDATE_GOLDEN === '1') {
      fs.writeFileSync(expectedFile, text); // regenerating: review the diff before committing
      return;
    }
    if (!fs.existsSync(expectedFile)) throw new Error(`${expectedFile} is missing: run with UPDATE_GOLDEN=1 and review it`);
    expect(text).toBe(fs.readFileSync(expectedFile, 'utf8'));
  });

  it('covers at least 25 distinct error codes, each with a documented meaning', () => {
    for (const f of cases) render(f).codes.forEach((c) => seen.add(c));
    const errors = [...seen].filter((c) => c.startsWith('E_'));
    expect(errors.length).toBeGreaterThanOrEqual(25);
    for (const c of seen) expect(DIAGNOSTIC_CODES).toHaveProperty(c);
  });

  it('the fixture rules file itself is clean', () => {
    const result = compileProject([fixture], { templates });
    expect(result.diagnostics).toEqual([]);
  });
});

/**
 * Folders import downward only (eslint.config.mjs, eslint-plugin-import-x's no-restricted-paths):
 * a forbidden import fails lint, an allowed one passes, and the repository obeys the rule.
 * (ESLint runs as its own process: its ESM config cannot load inside jest's module sandbox.)
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = path.join(__dirname, '..', '..');
const eslintBin = path.join(root, 'node_modules', 'eslint', 'bin', 'eslint.js');

interface LintResult { filePath: string; messages: { ruleId: string | null; line: number; message: string }[] }

function lint(args: string[], stdin?: string): LintResult[] {
  const r = spawnSync(process.execPath, [eslintBin, '--format', 'json', ...args], { cwd: root, input: stdin, encoding: 'utf8' });
  if (!r.stdout) throw new Error(`eslint printed nothing: ${r.stderr}`);
  return JSON.parse(r.stdout) as LintResult[];
}
const layerRules = new Set(['import-x/no-restricted-paths', '@typescript-eslint/no-restricted-imports']);
const layering = (results: LintResult[]) =>
  results.flatMap((r) => r.messages.filter((m) => m.ruleId !== null && layerRules.has(m.ruleId)).map((m) => `${path.relative(root, r.filePath)}:${m.line}: ${m.message}`));

describe('the layering lint rule', () => {
  it.each([
    ['rules/example.ts', "import { connectDatabase } from '../data/db';\nexport const x = connectDatabase;\n"],
    ['workflows/example.ts', "import { loadConfig } from '../lib/config';\nexport const x = loadConfig;\n"],
    ['data/example.ts', "import { startSojourn } from '../server/serve';\nexport const x = startSojourn;\n"],
    ['server/example.ts', "import { main } from '../cli/main';\nexport const x = main;\n"],
    ['engine/example.ts', "import { buildWorker } from '../worker/build-worker';\nexport const x = buildWorker;\n"],
    ['data/example.ts', "import { renderEmail } from '../mail/render';\nexport const x = renderEmail;\n"],
    ['lib/example.ts', "import { readTemplateCatalog } from '../mail/template-catalog';\nexport const x = readTemplateCatalog;\n"],
    ['worker/example.ts', "import { createEventDispatcher } from '../engine/dispatch';\nexport const x = createEventDispatcher;\n"],
  ])('refuses an upward import in %s', (file, code) => {
    const found = layering(lint(['--stdin', '--stdin-filename', file], code));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/import downward only/);
  }, 60_000);

  it('refuses a value import of activities/ in workflows/, at any depth', () => {
    for (const [file, from] of [['workflows/example.ts', '../activities/gate'], ['workflows/steps/example.ts', '../../activities/gate']]) {
      const found = layering(lint(['--stdin', '--stdin-filename', file], `import { createGateActivities } from '${from}';\nexport const x = createGateActivities;\n`));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(/import its types only/);
    }
  }, 60_000);

  it('allows a type-only import of activities/ in workflows/, and workflows/activities.ts from workflows/steps/', () => {
    expect(layering(lint(['--stdin', '--stdin-filename', 'workflows/example.ts'], "import type { GateActivities } from '../activities/gate';\nexport type X = GateActivities;\n"))).toEqual([]);
    expect(layering(lint(['--stdin', '--stdin-filename', 'workflows/steps/example.ts'], "import { data } from '../activities';\nexport const x = data;\n"))).toEqual([]);
  }, 60_000);

  it('allows a downward import', () => {
    expect(layering(lint(['--stdin', '--stdin-filename', 'server/example.ts'], "import { connectDatabase } from '../data/db';\nexport const x = connectDatabase;\n"))).toEqual([]);
  }, 60_000);

  it('finds no upward import in the product folders', () => {
    expect(layering(lint(['rules', 'workflows', 'activities', 'data', 'lib', 'mail', 'engine', 'worker', 'server']))).toEqual([]);
  }, 120_000);
});

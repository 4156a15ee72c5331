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
const layering = (results: LintResult[]) =>
  results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'import-x/no-restricted-paths').map((m) => `${path.relative(root, r.filePath)}:${m.line}: ${m.message}`));

describe('the layering lint rule', () => {
  it.each([
    ['rules/example.ts', "import { connectDatabase } from '../data/db';\nexport const x = connectDatabase;\n"],
    ['workflows/example.ts', "import { loadConfig } from '../lib/config';\nexport const x = loadConfig;\n"],
    ['data/example.ts', "import { startSojourn } from '../server/serve';\nexport const x = startSojourn;\n"],
    ['server/example.ts', "import { main } from '../cli/main';\nexport const x = main;\n"],
    ['engine/example.ts', "import { buildWorker } from '../worker/build-worker';\nexport const x = buildWorker;\n"],
    ['worker/example.ts', "import { createEventDispatcher } from '../engine/dispatch';\nexport const x = createEventDispatcher;\n"],
  ])('refuses an upward import in %s', (file, code) => {
    const found = layering(lint(['--stdin', '--stdin-filename', file], code));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/import downward only/);
  }, 60_000);

  it('allows a downward import', () => {
    expect(layering(lint(['--stdin', '--stdin-filename', 'server/example.ts'], "import { connectDatabase } from '../data/db';\nexport const x = connectDatabase;\n"))).toEqual([]);
  }, 60_000);

  it('finds no upward import in the product folders', () => {
    expect(layering(lint(['rules', 'workflows', 'activities', 'data', 'lib', 'mail', 'engine', 'worker', 'server']))).toEqual([]);
  }, 120_000);
});

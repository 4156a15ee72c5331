/**
 * workflows/ and rules/ must stay deterministic: the ESLint rule in eslint.config.mjs forbids Node
 * built-ins and I/O packages there. These tests prove the rule bites, and that the code obeys it.
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
const restricted = (results: LintResult[]) =>
  results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => `${path.relative(root, r.filePath)}:${m.line}: ${m.message}`));

describe('the purity lint rule', () => {
  it.each([
    ['workflows/example.ts', "import fs from 'node:fs';\nexport const x = fs;\n"],
    ['workflows/example.ts', "import mongoose from 'mongoose';\nexport const x = mongoose;\n"],
    ['rules/example.ts', "import { createHash } from 'crypto';\nexport const x = createHash;\n"],
    ['rules/example.ts', "import { Client } from '@temporalio/client';\nexport const x = Client;\n"],
  ])('refuses I/O in %s: %s', (file, code) => {
    expect(restricted(lint(['--stdin', '--stdin-filename', file], code))).toHaveLength(1);
  }, 60_000);

  it('allows the same imports in activities/', () => {
    expect(restricted(lint(['--stdin', '--stdin-filename', 'activities/example.ts'], "import fs from 'node:fs';\nexport const x = fs;\n"))).toEqual([]);
  }, 60_000);

  it('finds no forbidden import in the workflows and rules of this repository', () => {
    expect(restricted(lint(['workflows', 'rules']))).toEqual([]);
  }, 60_000);
});

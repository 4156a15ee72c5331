// Lint config. The important rule: workflows/ and rules/ are deterministic, pure code.
// They may not import Node built-ins or I/O packages (database, SMTP, HTTP, filesystem, logging).
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const ioPackages = [
  'mongoose', 'mongodb', 'nodemailer', 'smtp-server', 'mailparser', 'fastify', '@fastify/*',
  'pino', 'csv-parse', 'cli-progress', 'commander', 'maildev', 'playwright-core',
  '@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing',
];
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'eslint.config.mjs', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['workflows/**/*.ts', 'rules/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: nodeBuiltins.map((name) => ({ name, message: 'workflows/ and rules/ must stay deterministic and free of I/O.' })),
        patterns: [{ group: ioPackages, message: 'workflows/ and rules/ must stay deterministic and free of I/O.' }],
      }],
    },
  },
);

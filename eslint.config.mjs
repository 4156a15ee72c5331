// Lint config. The important rules: workflows/ and rules/ are deterministic, pure code (no Node
// built-ins or I/O packages: database, SMTP, HTTP, filesystem, logging); and folders import downward
// only (the layers below), enforced by eslint-plugin-import-x's no-restricted-paths.
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';

const ioPackages = [
  'mongoose', 'mongodb', 'nodemailer', 'smtp-server', 'mailparser', 'fastify', '@fastify/*',
  'pino', 'csv-parse', 'cli-progress', 'commander', 'maildev', 'playwright-core',
  '@temporalio/client', '@temporalio/worker', '@temporalio/activity', '@temporalio/testing',
];
const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

// Layers, lowest first: rules <- lib <- data <- mail <- activities <- engine | worker <- server <- cli, and
// rules <- workflows <- activities. engine/ (client side: project loading, ingest, dispatch, deploy,
// schedules) and worker/ (the Temporal worker) are siblings and never import each other. Each entry: a
// folder and the folders it must not import. The one exception (docs/decisions.md): workflows/ imports the
// activities' types (type-only, erased) to type proxyActivities.
const entry = ['cli', 'testing', 'scripts', 'bench', 'test'];
const forbidden = {
  rules: ['workflows', 'activities', 'data', 'lib', 'mail', 'engine', 'worker', 'server', ...entry],
  workflows: ['data', 'lib', 'mail', 'engine', 'worker', 'server', ...entry],
  activities: ['engine', 'worker', 'server', ...entry],
  data: ['activities', 'workflows', 'mail', 'engine', 'worker', 'server', ...entry],
  lib: ['activities', 'workflows', 'data', 'mail', 'engine', 'worker', 'server', ...entry],
  mail: ['activities', 'workflows', 'engine', 'worker', 'server', ...entry],
  engine: ['worker', 'server', ...entry],
  worker: ['engine', 'server', ...entry],
  server: entry,
};
const layerZones = Object.entries(forbidden).flatMap(([target, froms]) =>
  froms.map((from) => ({ target: `./${target}`, from: `./${from}`, message: `${target}/ sits below ${from}/: import downward only (docs/decisions.md).` })));

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'eslint.config.mjs', 'bin/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })] },
    rules: { 'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: layerZones }] },
  },
  // The one exception to the zones: workflows/ may import activities/ for types only (erased, so the
  // workflow bundle holds no activity code); a value import is refused.
  ...[['workflows/*.ts', '../activities'], ['workflows/*/**/*.ts', '../../activities']].map(([files, up]) => ({
    files: [files],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{
        group: [up, `${up}/*`], allowTypeImports: true,
        message: 'workflows/ sits below activities/: import its types only (import type), never its code.',
      }] }],
    },
  })),
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

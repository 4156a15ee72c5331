/**
 * How the workflow code is bundled, in one place for the worker (worker/build-worker.ts) and the test
 * runner's pre-built bundle (scripts/test.ts).
 *
 * With the SDK's reusable V8 context, every module a workflow requires is evaluated again for each run
 * and kept in that run's own module cache for as long as the run is cached. For the expression engine
 * that meant building the CEL environment (types, functions), compiling every expression and regular
 * expression, and loading luxon, cel-js and re2js once per run: most of the worker's CPU for a short
 * run, and about 1.7 MB of memory per cached run. The modules below are loaded once, when the worker's
 * context is set up, and shared by every run (decision 45). Each is deterministic and keeps no state of
 * a run: the caches they hold are keyed by expression, pattern or time zone, bounded, and only ever
 * make a repeat faster; the expression clock is set and restored around each synchronous evaluation.
 * Modules that use the workflow API (`workflows/*` except local-time) stay per run.
 */
import path from 'node:path';

const root = path.join(__dirname, '..');

const WORKFLOWS_PATH = path.join(root, 'workflows', 'index.ts');

/** These and what they import (cel-js, re2js and luxon come with them). */
export const PRELOADED_WORKFLOW_MODULES: readonly string[] = [
  path.join(root, 'rules', 'evaluate.ts'),
  path.join(root, 'rules', 'trigger-data.ts'),
  path.join(root, 'rules', 'hour-of-week.ts'),
  path.join(root, 'rules', 'sha256.ts'),
  path.join(root, 'workflows', 'local-time.ts'),
];

/** The options every bundle of the workflow code is built with (add a logger). */
export function workflowBundleOptions(): { workflowsPath: string; preloadModules: string[] } {
  return { workflowsPath: WORKFLOWS_PATH, preloadModules: [...PRELOADED_WORKFLOW_MODULES] };
}

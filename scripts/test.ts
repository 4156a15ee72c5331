/**
 * `npm test`: provisions the servers if needed, starts the embedded database (FerretDB on PostgreSQL,
 * or on SQLite with SOJOURN_DB_BACKEND=sqlite) on free ports with a throw-away data folder, pre-bundles the workflow code once, runs jest (all projects, or the arguments given,
 * e.g. `npm test -- --selectProjects unit`), tears everything down, and exits non-zero on any failure
 * or when no test ran. The last line is the plain summary `N passed, N failed[, N skipped]`, computed
 * from jest's own JSON results.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { provision } from './provision';
import { dbBackend, freePort, startEmbeddedDatabase, type RunningServer } from './servers';
import { cleanStaleRuns, markRunner } from './stale-runs';

interface JestResults {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTests: number;
  numFailedTestSuites: number;
  numRuntimeErrorTestSuites: number;
  success: boolean;
}

const root = path.resolve(__dirname, '..');

function log(msg: string): void {
  process.stderr.write(`[test] ${msg}\n`);
}

async function bundleWorkflows(outFile: string): Promise<boolean> {
  const { workflowBundleOptions } = await import('../worker/bundle-options');
  const options = workflowBundleOptions();
  if (!fs.existsSync(options.workflowsPath)) return false;
  const { bundleWorkflowCode, DefaultLogger } = await import('@temporalio/worker');
  const started = Date.now();
  const { code } = await bundleWorkflowCode({ ...options, logger: new DefaultLogger('WARN') });
  fs.writeFileSync(outFile, code);
  log(`bundled workflows once in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return true;
}

async function main(): Promise<number> {
  const started = Date.now();
  const servers: RunningServer[] = [];
  for (const dir of cleanStaleRuns('sojourn-test-')) log(`stopped the servers a killed test run left in ${dir}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-test-'));
  markRunner(tmp);
  // As root, PostgreSQL runs as its own user and keeps its data in here: let that user in.
  fs.chmodSync(tmp, 0o755);
  const stopAll = async () => {
    await Promise.all(servers.map((s) => s.stop()));
    fs.rmSync(tmp, { recursive: true, force: true });
  };
  const onSignal = () => {
    void stopAll().then(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // SOJOURN_FERRETDB_BIN runs the suite against another FerretDB build (e.g. one without FERRETDB_PATCHES).
    const p = { ...provision(), ...(process.env.SOJOURN_FERRETDB_BIN ? { ferretdb: process.env.SOJOURN_FERRETDB_BIN } : {}) };
    const port = await freePort();
    const backend = dbBackend();
    const db = await startEmbeddedDatabase({ p, backend, port, dataDir: path.join(tmp, 'data'), logDir: tmp, throwAway: true });
    servers.push(db);
    log(`${db.name} on 127.0.0.1:${port} (data in ${tmp})`);

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MONGODB_URI: db.uri,
      SOJOURN_TEST_SERVER_BIN: p.testServer,
      TEMPORAL_CLI_BIN: p.temporal,
      FERRETDB_BIN: p.ferretdb,
      SOJOURN_DB_BACKEND: backend,
      // Tests that read PostgreSQL's own counters (test/helpers/listing-plan.ts); empty on SQLite.
      SOJOURN_TEST_POSTGRES_URL: db.postgresUrl ?? '',
      SOJOURN_CACHE: p.cacheDir,
      NODE_ENV: 'test',
      SOJOURN_ENV: 'development',
      LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn',
    };
    const bundle = path.join(tmp, 'workflow-bundle.js');
    if (await bundleWorkflows(bundle)) env.SOJOURN_WORKFLOW_BUNDLE = bundle;

    const resultsFile = path.join(tmp, 'jest-results.json');
    const jestBin = require.resolve('jest/bin/jest', { paths: [root] });
    const args = [jestBin, '--json', `--outputFile=${resultsFile}`, '--maxWorkers=2', ...process.argv.slice(2)];
    const code = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'inherit'] });
      child.on('exit', (c, sig) => resolve(c ?? (sig ? 1 : 0)));
    });

    if (!fs.existsSync(resultsFile)) {
      log(`jest exited with code ${code} and wrote no results`);
      console.log('0 passed, 0 failed');
      return code || 1;
    }
    const r = JSON.parse(fs.readFileSync(resultsFile, 'utf8')) as JestResults;
    const skipped = r.numPendingTests + r.numTodoTests;
    // A file that fails to load (syntax error, import error) counts as a failure of its own.
    const brokenSuites = r.numRuntimeErrorTestSuites;
    log(`finished in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    if (r.numTotalTests === 0) log('no test ran: that is a failure, not a pass');
    if (brokenSuites > 0) log(`${brokenSuites} test file(s) failed to run`);
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests + brokenSuites} failed${skipped ? `, ${skipped} skipped` : ''}`);
    if (code !== 0 || !r.success || r.numFailedTests > 0 || brokenSuites > 0 || r.numTotalTests === 0) return code || 1;
    return 0;
  } catch (err) {
    log((err as Error).message);
    console.log('0 passed, 1 failed');
    return 1;
  } finally {
    await stopAll();
  }
}

main().then((code) => process.exit(code));

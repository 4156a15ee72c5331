/**
 * The workflow bundle for tests and fixture recording: the runner's pre-built one
 * (SOJOURN_WORKFLOW_BUNDLE), else one cached in the temp folder by a hash of workflows/, rules/ and the
 * bundle options, so only the first test file after a change pays for webpack.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { WorkflowBundleOption } from '@temporalio/worker';
import { bundleWorkflows } from '../../worker/build-worker';

const ROOT = path.resolve(__dirname, '..', '..');

function sourceHash(): string {
  const h = crypto.createHash('sha256');
  const walk = (dir: string) => {
    for (const f of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(dir, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith('.ts')) h.update(p).update(fs.readFileSync(p));
    }
  };
  walk(path.join(ROOT, 'workflows'));
  walk(path.join(ROOT, 'rules'));
  // The bundle options (which modules are preloaded) change the bundle too.
  const options = path.join(ROOT, 'worker', 'bundle-options.ts');
  h.update(options).update(fs.readFileSync(options));
  return h.digest('hex').slice(0, 16);
}

export async function workflowBundle(): Promise<WorkflowBundleOption> {
  if (process.env.SOJOURN_WORKFLOW_BUNDLE) return { codePath: process.env.SOJOURN_WORKFLOW_BUNDLE };
  const file = path.join(os.tmpdir(), `sojourn-engine-bundle-${sourceHash()}.js`);
  if (!fs.existsSync(file)) {
    const b = (await bundleWorkflows()) as { code: string };
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, b.code);
    fs.renameSync(tmp, file);
  }
  return { codePath: file };
}


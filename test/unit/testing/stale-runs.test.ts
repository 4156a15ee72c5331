import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cleanStaleRuns } from '../../../scripts/stale-runs';

function exited(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

describe('stale test runs', () => {
  it('stops the servers of a run whose runner died, and leaves live runs and foreign folders alone', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'stale-root-'));
    const dead = fs.mkdtempSync(path.join(root, 'run-'));
    const live = fs.mkdtempSync(path.join(root, 'run-'));
    const foreign = fs.mkdtempSync(path.join(root, 'run-'));
    // A pid that surely ended: a process that ran and was reaped.
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(path.join(dead, 'runner.pid'), gone.stdout);
    fs.writeFileSync(path.join(live, 'runner.pid'), String(process.pid));
    // A "server" of the dead run (its data folder on the command line) and one of the live run.
    const orphan = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', path.join(dead, 'data')], { stdio: 'ignore' });
    const kept = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)', path.join(live, 'data')], { stdio: 'ignore' });
    try {
      expect(cleanStaleRuns('run-', root)).toEqual([dead]);
      await new Promise<void>((r) => orphan.once('exit', () => r()));
      expect([exited(orphan.pid!), exited(kept.pid!)]).toEqual([true, false]);
      expect([fs.existsSync(dead), fs.existsSync(live), fs.existsSync(foreign)]).toEqual([false, true, true]);
    } finally {
      kept.kill('SIGKILL');
      orphan.kill('SIGKILL');
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 20_000);
});

/**
 * A test run killed with SIGKILL (a CI timeout, an impatient Ctrl-\) cannot stop its servers: the
 * embedded PostgreSQL and FerretDB keep running with their data in the run's temporary folder. Each
 * run writes its own pid into that folder; the next run stops the servers of every folder whose runner
 * is gone (found by the folder's path on their command line) and removes the folder.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const RUNNER_PID = 'runner.pid';

export function markRunner(dir: string): void {
  fs.writeFileSync(path.join(dir, RUNNER_PID), String(process.pid));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Pids of processes whose command line mentions `dir` (Linux /proc; elsewhere none are found). */
function processesUsing(dir: string): number[] {
  if (!fs.existsSync('/proc')) return [];
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.split('\0').some((arg) => arg.includes(dir))) found.push(pid);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

/** Stops what runs of `prefix` left behind when their runner died; returns the folders cleaned. */
export function cleanStaleRuns(prefix: string, tmpRoot = os.tmpdir()): string[] {
  const cleaned: string[] = [];
  for (const name of fs.readdirSync(tmpRoot)) {
    if (!name.startsWith(prefix)) continue;
    const dir = path.join(tmpRoot, name);
    let runner: number;
    try {
      runner = Number(fs.readFileSync(path.join(dir, RUNNER_PID), 'utf8'));
    } catch {
      continue; // not ours, or a run from before runner.pid existed: leave it alone
    }
    if (!Number.isInteger(runner) || alive(runner)) continue;
    for (const pid of processesUsing(dir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
    cleaned.push(dir);
  }
  return cleaned;
}

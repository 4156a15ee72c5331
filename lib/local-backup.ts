/**
 * Backup and restore of the local stack's data (`sojourn backup|restore`): the Temporal dev server's
 * SQLite file (runs, histories, schedules) and FerretDB's SQLite files (contacts, events, ledger,
 * journey versions), copied with SQLite's online backup API (consistent while the servers run, through
 * Python's sqlite3 module: Python 3 is already a prerequisite). Restore puts the files back while the
 * stack is stopped and checks each file against the manifest's SHA-256. Production data lives in a
 * MongoDB replica set and a Temporal cluster: docs/deploy.md says how to back those up.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface BackupManifest {
  format: 'sojourn-local-backup/1';
  createdAt: string;
  files: { path: string; bytes: number; sha256: string }[];
}

const ONLINE_BACKUP = 'import sqlite3,sys\ns=sqlite3.connect(sys.argv[1])\nd=sqlite3.connect(sys.argv[2])\ns.backup(d)\nd.close()\ns.close()\n';

/** The SQLite files of the local stack's data folder, relative to it. */
export function localDataFiles(dataDir: string): string[] {
  const files: string[] = [];
  if (fs.existsSync(path.join(dataDir, 'temporal.db'))) files.push('temporal.db');
  const ferret = path.join(dataDir, 'ferretdb');
  if (fs.existsSync(ferret)) for (const f of fs.readdirSync(ferret).sort()) if (f.endsWith('.sqlite')) files.push(path.join('ferretdb', f));
  return files;
}

function sha256(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** Copies every SQLite file of `dataDir` into `outDir` (which must not exist yet) and writes the manifest. */
export function backupLocalData(dataDir: string, outDir: string, now = new Date()): BackupManifest {
  const files = localDataFiles(dataDir);
  if (!files.length) throw new Error(`no local data in ${dataDir} (has \`npm start\` run with this SOJOURN_CACHE?)`);
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length) throw new Error(`${outDir} exists and is not empty; choose a new folder`);
  const manifest: BackupManifest = { format: 'sojourn-local-backup/1', createdAt: now.toISOString(), files: [] };
  for (const rel of files) {
    const dst = path.join(outDir, rel);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    execFileSync('python3', ['-c', ONLINE_BACKUP, path.join(dataDir, rel), dst], { stdio: 'pipe' });
    manifest.files.push({ path: rel, bytes: fs.statSync(dst).size, sha256: sha256(dst) });
  }
  fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
  return manifest;
}

/**
 * Puts a backup back into `dataDir`. Refuses a data folder that holds data unless `force` (then its
 * SQLite files are replaced, and their -wal/-shm companions removed so no stale log is replayed).
 */
export function restoreLocalData(backupDir: string, dataDir: string, opts: { force?: boolean } = {}): BackupManifest {
  const manifestFile = path.join(backupDir, 'manifest.json');
  if (!fs.existsSync(manifestFile)) throw new Error(`${manifestFile} not found: not a sojourn backup`);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as BackupManifest;
  if (manifest.format !== 'sojourn-local-backup/1') throw new Error(`${manifestFile}: unknown format "${String(manifest.format)}"`);
  for (const f of manifest.files) {
    if (path.isAbsolute(f.path) || f.path.split(/[\\/]/).includes('..')) throw new Error(`${manifestFile}: bad path "${f.path}"`);
    const src = path.join(backupDir, f.path);
    if (!fs.existsSync(src) || sha256(src) !== f.sha256) throw new Error(`${src} is missing or does not match the manifest's SHA-256`);
  }
  const existing = localDataFiles(dataDir);
  if (existing.length && !opts.force) throw new Error(`${dataDir} already holds data (${existing.join(', ')}); stop the stack and use --force to replace it`);
  for (const f of manifest.files) {
    const dst = path.join(dataDir, f.path);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    for (const extra of ['-wal', '-shm', '-journal']) fs.rmSync(dst + extra, { force: true });
    fs.copyFileSync(path.join(backupDir, f.path), dst);
  }
  return manifest;
}

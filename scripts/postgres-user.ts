/**
 * PostgreSQL refuses to run as root. When the stack runs as root (CI, containers), the embedded
 * PostgreSQL runs as the unprivileged `postgres` user instead, created when missing, and everything it
 * opens (binaries, data folder) must be reachable by that user. This module finds or creates the user
 * and picks folders it can reach.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface ServiceUser {
  name: string;
  uid: number;
  gid: number;
}

/** Where PostgreSQL's files go as root when the cache (e.g. under a 0700 /root) is out of the user's reach. */
export const ROOT_SERVICE_DIR = '/var/lib/sojourn';

function idOf(name: string, flag: '-u' | '-g'): number | null {
  const r = spawnSync('id', [flag, name], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : null;
}

/** null when not root (PostgreSQL then runs as the current user); otherwise the `postgres` user, created if needed. */
export function postgresUser(): ServiceUser | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const name = 'postgres';
  if (idOf(name, '-u') === null) {
    const tries = [
      ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', name],
      ['--system', '-g', name, '--no-create-home', '--shell', '/usr/sbin/nologin', name],
    ];
    for (const args of tries) {
      const r = spawnSync('useradd', args, { encoding: 'utf8' });
      if (r.status === 0) break;
    }
  }
  const uid = idOf(name, '-u');
  const gid = idOf(name, '-g');
  if (uid === null || gid === null) throw new Error(`running as root, PostgreSQL needs an unprivileged "${name}" user, and "useradd ${name}" failed`);
  return { name, uid, gid };
}

/** True when `user` can traverse `dir` (and every folder above it); always true without a separate user. */
export function reachable(dir: string, user: ServiceUser | null, mode: 'x' | 'w' = 'x'): boolean {
  if (!user) return true;
  const r = spawnSync('test', [`-${mode}`, dir], { uid: user.uid, gid: user.gid });
  return r.status === 0;
}

/** The cache itself when the service user can reach it, else ROOT_SERVICE_DIR (world-traversable, root-owned). */
export function serviceRoot(cache: string, user: ServiceUser | null): string {
  if (reachable(cache, user)) return cache;
  fs.mkdirSync(ROOT_SERVICE_DIR, { recursive: true, mode: 0o755 });
  return ROOT_SERVICE_DIR;
}

/**
 * PostgreSQL's data folder for a stack whose data lives in `dataDir`: `<dataDir>/postgres` when the
 * service user can reach it; otherwise a folder under ROOT_SERVICE_DIR named by a random id kept in
 * `<dataDir>/postgres.id`, so deleting `dataDir` starts a fresh database as it does for every server.
 */
export function postgresDataDir(dataDir: string, user: ServiceUser | null): string {
  fs.mkdirSync(dataDir, { recursive: true });
  if (reachable(dataDir, user)) return path.join(dataDir, 'postgres');
  const idFile = path.join(dataDir, 'postgres.id');
  let id = fs.existsSync(idFile) ? fs.readFileSync(idFile, 'utf8').trim() : '';
  if (!/^[0-9a-f]{16}$/.test(id)) {
    id = crypto.randomBytes(8).toString('hex');
    fs.writeFileSync(idFile, `${id}\n`);
  }
  const base = path.join(ROOT_SERVICE_DIR, 'postgres-data');
  fs.mkdirSync(base, { recursive: true, mode: 0o755 });
  return path.join(base, id);
}

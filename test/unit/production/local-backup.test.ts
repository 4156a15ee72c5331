import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { backupLocalData, restoreLocalData } from '../../../lib/local-backup';

const sql = (file: string, statement: string) =>
  execFileSync('python3', ['-c', 'import sqlite3,sys\nc=sqlite3.connect(sys.argv[1])\nr=c.execute(sys.argv[2]).fetchall()\nc.commit()\nprint(r)', file, statement], { encoding: 'utf8' }).trim();

describe('backup and restore of the local stack data', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sojourn-backup-'));
  const data = path.join(tmp, 'data');
  beforeAll(() => {
    fs.mkdirSync(path.join(data, 'ferretdb'), { recursive: true });
    sql(path.join(data, 'temporal.db'), 'create table runs(id text)');
    sql(path.join(data, 'temporal.db'), "insert into runs values ('journey/welcome/c1')");
    sql(path.join(data, 'ferretdb', 'sojourn.sqlite'), 'create table contacts(name text)');
    sql(path.join(data, 'ferretdb', 'sojourn.sqlite'), "insert into contacts values ('Ana')");
  });
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('copies the SQLite files, and after a wipe puts them back with their rows', () => {
    const m = backupLocalData(data, path.join(tmp, 'b1'));
    expect(m.files.map((f) => f.path)).toEqual(['temporal.db', path.join('ferretdb', 'sojourn.sqlite')]);
    expect(() => restoreLocalData(path.join(tmp, 'b1'), data)).toThrow(/already holds data .*--force/);
    fs.rmSync(data, { recursive: true });
    restoreLocalData(path.join(tmp, 'b1'), data);
    expect(sql(path.join(data, 'temporal.db'), 'select id from runs')).toBe("[('journey/welcome/c1',)]");
    expect(sql(path.join(data, 'ferretdb', 'sojourn.sqlite'), 'select name from contacts')).toBe("[('Ana',)]");
  });

  it('refuses a damaged backup, a path outside the data folder, and an existing backup folder', () => {
    const dir = path.join(tmp, 'b2');
    backupLocalData(data, dir);
    expect(() => backupLocalData(data, dir)).toThrow(/not empty/);
    fs.appendFileSync(path.join(dir, 'temporal.db'), 'x');
    expect(() => restoreLocalData(dir, data, { force: true })).toThrow(/does not match the manifest's SHA-256/);
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    m.files[0].path = '../../etc/passwd';
    fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(m));
    expect(() => restoreLocalData(dir, data, { force: true })).toThrow(/bad path/);
    expect(() => backupLocalData(path.join(tmp, 'nothing'), path.join(tmp, 'b3'))).toThrow(/no local data/);
  });
});

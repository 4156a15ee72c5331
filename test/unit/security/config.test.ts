/**
 * Secrets are never defaulted outside development mode (SOJOURN_ENV=development): `sojourn serve`
 * refuses to start, naming each missing or weak variable, and the keys are checked at start-up.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../../lib/config';

const root = path.resolve(__dirname, '..', '..', '..');
const GOOD = {
  SOJOURN_API_KEY: 'k'.repeat(32),
  SOJOURN_SECRET: 's'.repeat(40),
  SOJOURN_PHONE_KEY: Buffer.alloc(32, 7).toString('base64'),
  SOJOURN_PAYLOAD_KEYS: `k1:${Buffer.alloc(32, 9).toString('hex')}`,
};

function problemsOf(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.variables;
  }
}

describe('secrets outside development mode', () => {
  it('`NODE_ENV=staging sojourn serve` without secrets exits non-zero naming every missing variable', () => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'staging' };
    const r = spawnSync(process.execPath, [require.resolve('tsx/cli', { paths: [root] }), path.join(root, 'cli', 'main.ts'), 'serve'], { env, cwd: root, encoding: 'utf8', timeout: 150_000 }); // tsx compiles the CLI cold: slow on a loaded box
    console.log(`sojourn serve (NODE_ENV=staging, no secrets): exit ${r.status}\n${r.stderr.trim()}`);
    expect(r.status).not.toBe(0);
    expect(r.status).not.toBeNull();
    for (const v of ['SOJOURN_API_KEY', 'SOJOURN_SECRET', 'SOJOURN_PHONE_KEY', 'SOJOURN_PAYLOAD_KEYS']) expect(r.stderr).toContain(`${v} must be set`);
  }, 160_000);

  it('refuses short keys, the public dev values and a malformed phone key, each by name', () => {
    expect(problemsOf({ NODE_ENV: 'production' })).toEqual(['SOJOURN_PAYLOAD_KEYS', 'SOJOURN_API_KEY', 'SOJOURN_SECRET', 'SOJOURN_PHONE_KEY']);
    expect(problemsOf({ ...GOOD })).toEqual([]);
    expect(problemsOf({ ...GOOD, SOJOURN_API_KEY: 'x' })).toEqual(['SOJOURN_API_KEY']);
    expect(problemsOf({ ...GOOD, SOJOURN_SECRET: 'a'.repeat(31) })).toEqual(['SOJOURN_SECRET']);
    expect(problemsOf({ ...GOOD, SOJOURN_SECRET: 'sojourn-local-dev-secret-change-me' })).toEqual(['SOJOURN_SECRET']);
    expect(problemsOf({ ...GOOD, SOJOURN_PHONE_KEY: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f' })).toEqual(['SOJOURN_PHONE_KEY']);
    for (const bad of ['abc', 'g'.repeat(64), Buffer.alloc(31).toString('base64'), Buffer.alloc(32, 0xfb).toString('base64').replace('=', ''), ` ${GOOD.SOJOURN_PHONE_KEY}`, Buffer.alloc(32, 1).toString('hex') + '00']) {
      expect(problemsOf({ ...GOOD, SOJOURN_PHONE_KEY: bad })).toEqual(['SOJOURN_PHONE_KEY']);
    }
    expect(problemsOf({ ...GOOD, SOJOURN_TIME_SCALE: '1/86400' })).toEqual(['SOJOURN_TIME_SCALE']);
    expect(problemsOf({ ...GOOD, SOJOURN_ENV: 'dev' })).toEqual(['SOJOURN_ENV']);
  });

  it('defaults the secrets only in development mode, and still checks a phone key given there', () => {
    expect(loadConfig({ SOJOURN_ENV: 'development' }).apiKey).toBe('dev-api-key');
    expect(problemsOf({ SOJOURN_ENV: 'development', SOJOURN_PHONE_KEY: 'short' })).toEqual(['SOJOURN_PHONE_KEY']);
  });
});

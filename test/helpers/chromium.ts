/**
 * Debian's Chromium for the browser tests (driven by playwright-core, no browser download). When it is
 * missing and we are root, it is installed with apt-get (the packages the project's machines can
 * reach); otherwise the test fails with what to run. A browser test never skips silently.
 */
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { CHROMIUM_PATH } from '../../mail/preview';

export function ensureChromium(): string {
  if (fs.existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
  if (process.getuid?.() !== 0) throw new Error(`Chromium not found at ${CHROMIUM_PATH}: run \`apt-get install chromium\` as root or set CHROMIUM_PATH`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update'], { stdio: 'ignore', env, timeout: 300_000 });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'ignore', env, timeout: 600_000 });
  if (!fs.existsSync(CHROMIUM_PATH)) throw new Error(`apt-get install chromium did not provide ${CHROMIUM_PATH}`);
  return CHROMIUM_PATH;
}

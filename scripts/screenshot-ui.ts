/**
 * Saves screenshots of what a new user sees after `npm start`: the Temporal UI filtered by a custom
 * search attribute, the maildev inbox, and the dashboard (journeys list and the welcome report). Needs the stack running and Debian's Chromium
 * (`apt-get install chromium`); playwright-core drives it (no browser download).
 *
 *   npx tsx scripts/screenshot-ui.ts [--query 'SojournJourney="welcome"'] [--out docs/img]
 */
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_FLAGS, CHROMIUM_PATH as CHROMIUM } from '../mail/preview';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: install it with \`apt-get install chromium\` or set CHROMIUM_PATH`);
  }
  const uiPort = process.env.TEMPORAL_UI_PORT || '8233';
  const inboxPort = process.env.MAILDEV_WEB_PORT || '1080';
  const query = arg('--query', 'SojournJourney="welcome"');
  const out = arg('--out', path.join(__dirname, '..', 'docs', 'img'));
  fs.mkdirSync(out, { recursive: true });

  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    const uiUrl = `http://127.0.0.1:${uiPort}/namespaces/default/workflows?query=${encodeURIComponent(query)}`;
    await page.goto(uiUrl, { waitUntil: 'networkidle' });
    await page.waitForSelector('text=journey/', { timeout: 30_000 }).catch(() => undefined);
    const uiShot = path.join(out, 'temporal-ui-filtered.png');
    await page.screenshot({ path: uiShot, fullPage: false });
    console.log(`saved ${uiShot} (${uiUrl})`);

    await page.goto(`http://127.0.0.1:${inboxPort}/`, { waitUntil: 'networkidle' });
    await page.waitForTimeout(1500);
    const inboxShot = path.join(out, 'maildev-inbox.png');
    await page.screenshot({ path: inboxShot, fullPage: false });
    console.log(`saved ${inboxShot}`);

    // The dashboard: logged in through its form with the API key, like a person.
    const httpPort = process.env.HTTP_PORT || '3000';
    const dashboard = `http://127.0.0.1:${httpPort}/dashboard`;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(dashboard);
    await page.fill('input[name=apiKey]', process.env.SOJOURN_API_KEY || 'dev-api-key');
    await Promise.all([page.waitForURL(dashboard), page.click('button[type=submit]')]);
    const listShot = path.join(out, 'dashboard-journeys.png');
    await page.screenshot({ path: listShot, clip: { x: 0, y: 0, width: 1280, height: 360 } });
    console.log(`saved ${listShot}`);
    await page.goto(`${dashboard}/journeys/welcome?since=7d`);
    await page.waitForFunction('window.Chart && Chart.getChart("funnel-chart") !== undefined');
    const journeyShot = path.join(out, 'dashboard-welcome.png');
    await page.screenshot({ path: journeyShot });
    console.log(`saved ${journeyShot}`);
  } finally {
    await browser.close();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});

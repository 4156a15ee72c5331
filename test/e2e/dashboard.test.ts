/**
 * The dashboard in a real browser (Debian's Chromium driven by playwright-core) on the local stack:
 * the Temporal dev server with its Web UI, the database, an SMTP server and Sojourn (worker + HTTP
 * server) with the shipped journeys. A person logs in with the form, reads the journeys list and
 * follows a journey's link into the Temporal UI; every number on the page is compared with what the
 * API answers for the same thing. No CSP violation, script error or failed asset is allowed.
 */
import os from 'node:os';
import path from 'node:path';
import mongoose from 'mongoose';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadConfig } from '../../lib/config';
import { freePort, startTemporalDev, type RunningServer } from '../../scripts/servers';
import { startSojourn, type RunningSojourn } from '../../server/serve';
import { SEARCH_ATTRIBUTES } from '../../engine/search-attributes';
import { startSmtpSink, type SmtpSink } from '../../testing/smtp-sink';
import { CHROMIUM_FLAGS } from '../../mail/preview';
import { ensureChromium } from '../helpers/chromium';
import { temporalCliBin } from '../helpers/temporal';
import { uniqueDatabaseUri } from '../helpers/db';
import { daytimeZone } from '../../testing/daytime-zone';

const API_KEY = 'e2e-dashboard-key';

jest.setTimeout(300_000);

interface JourneyListed { journeyId: string; liveVersion: number; paused: boolean; versions: unknown[] }

describe('the dashboard in a browser', () => {
  let temporal: RunningServer & { address: string; uiUrl: string | null };
  let smtp: SmtpSink;
  let sojourn: RunningSojourn;
  let browser: Browser;
  let base = '';
  const zone = daytimeZone();

  beforeAll(async () => {
    const executablePath = ensureChromium();
    const port = await freePort();
    temporal = await startTemporalDev({
      bin: temporalCliBin(), port, uiPort: await freePort(), searchAttributes: [...SEARCH_ATTRIBUTES],
      logFile: path.join(os.tmpdir(), `sojourn-e2e-dashboard-${port}.log`),
    });
    smtp = await startSmtpSink();
    const httpPort = await freePort();
    base = `http://127.0.0.1:${httpPort}`;
    const config = loadConfig({
      MONGODB_URI: uniqueDatabaseUri('e2edash'), TEMPORAL_ADDRESS: temporal.address, SMTP_URL: smtp.url, TEMPORAL_UI_URL: temporal.uiUrl!,
      HTTP_PORT: String(httpPort), SOJOURN_ENV: 'development', SOJOURN_API_KEY: API_KEY, SOJOURN_TIME_SCALE: '1/8640', TASK_QUEUE: 'sojourn-e2e-dashboard',
    } as NodeJS.ProcessEnv);
    // The shipped journeys and an A/B test with a holdout (fixtures/dashboard/offer_test.yaml).
    sojourn = await startSojourn(config, { demo: false, journeys: [path.join(__dirname, '..', '..', 'journeys'), path.join(__dirname, 'fixtures', 'dashboard')] });
    browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS, timeout: 60_000 });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await mongoose.connection.dropDatabase().catch(() => undefined);
    await sojourn?.stop();
    await smtp?.close();
    await temporal?.stop();
  }, 60_000);

  async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
    const res = await fetch(base + url, {
      method,
      headers: { authorization: `Bearer ${API_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /**
   * A browser page that records every script error, CSP violation (Chromium reports them on the
   * console) and failed request while it shows the dashboard (not while it shows the Temporal UI).
   */
  async function newPage(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const problems: string[] = [];
    const ours = () => page.url().startsWith(base);
    page.on('pageerror', (e) => ours() && problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (ours() && (m.type() === 'error' || m.type() === 'warning')) problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('requestfailed', (r) => r.url().startsWith(base) && problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`));
    page.on('response', (r) => {
      if (r.url().startsWith(base) && r.status() >= 400) problems.push(`HTTP ${r.status()} for ${r.url()}`);
    });
    return { page, problems };
  }

  /** Logs in the way a person does: the dashboard URL, the login form, the key typed into it. */
  async function logIn(page: Page): Promise<void> {
    await page.goto(`${base}/dashboard`);
    expect(new URL(page.url()).pathname).toBe('/dashboard/login');
    await page.fill('input[name=apiKey]', API_KEY);
    await Promise.all([page.waitForURL(`${base}/dashboard`), page.click('button[type=submit]')]);
    expect(page.url()).not.toContain(API_KEY);
  }

  it('logs in with the form and lists each journey with the live version, paused state and Temporal UI filter the API gives', async () => {
    // Pause one journey through the API, so the list has both states.
    await api('POST', '/v1/journeys/birthday/pause');
    const { journeys } = await api<{ journeys: JourneyListed[] }>('GET', '/v1/journeys');
    expect(journeys.map((j) => j.journeyId).sort()).toEqual(['birthday', 'offer_test', 'post_purchase', 'reengagement', 'verification', 'welcome']);

    const { page, problems } = await newPage();
    await logIn(page);
    const rows = await page.$$eval('table.journeys tbody tr', (trs) => trs.map((tr) => ({
      journeyId: tr.getAttribute('data-journey'),
      liveVersion: Number(tr.querySelector('.live-version')?.textContent),
      paused: tr.querySelector('.paused-state')?.textContent?.trim(),
      link: tr.querySelector('a.temporal')?.getAttribute('href'),
    })));
    expect(rows).toEqual(journeys.map((j) => ({
      journeyId: j.journeyId,
      liveVersion: j.liveVersion,
      paused: j.paused ? 'paused' : 'live',
      link: `${temporal.uiUrl}/namespaces/default/workflows?query=${encodeURIComponent(`SojournJourney = "${j.journeyId}"`)}`,
    })));
    expect(rows.find((r) => r.journeyId === 'birthday')?.paused).toBe('paused');
    // The session cookie cannot be read by scripts.
    expect(await page.evaluate('document.cookie')).toBe('');
    await page.close();
    expect(problems).toEqual([]);
  });

  it("links a journey to its runs in the Temporal UI, which shows the journey's run", async () => {
    const email = `dash.link.${Date.now()}@example.com`;
    const { id } = await api<{ id: string }>('POST', '/v1/contacts', { email, firstName: 'Lin', timezone: zone, consent: { email: 'subscribed' } });
    const { page } = await newPage();
    await logIn(page);
    const href = await page.getAttribute('tr[data-journey=welcome] a.temporal', 'href');
    expect(href).toBeTruthy();
    await page.goto(href!);
    // The Temporal UI lists the sign-up's welcome run under the journey's filter.
    await page.waitForSelector(`text=journey/welcome/${id}`, { timeout: 60_000 });
    await page.close();
  });
});

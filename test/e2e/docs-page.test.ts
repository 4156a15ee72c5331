/**
 * The API reference at /docs, opened in headless Chromium (Debian's, via playwright-core) on the real
 * server: the rendered page lists every path of the OpenAPI document.
 */
import { chromium, type Browser } from 'playwright-core';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../server/app';
import { loadConfig } from '../../lib/config';
import { CHROMIUM_FLAGS } from '../../mail/preview';
import { ensureChromium } from '../helpers/chromium';

jest.setTimeout(900_000);

describe('the /docs page', () => {
  let app: FastifyInstance;
  let base = '';
  let browser: Browser | null = null;
  beforeAll(async () => {
    const executablePath = ensureChromium();
    app = await buildServer({ config: { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: 'docs-test-key' }, logLevel: 'warn' });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
    browser = await chromium.launch({ executablePath, args: CHROMIUM_FLAGS, timeout: 60_000 });
  });
  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('shows every path of the OpenAPI document', async () => {
    const doc = (await (await fetch(`${base}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    const documented = Object.keys(doc.paths).sort();
    expect(documented.length).toBeGreaterThan(0);
    const page = await browser!.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(m.text());
    });
    await page.goto(`${base}/docs`, { waitUntil: 'networkidle', timeout: 60_000 });
    await page.waitForSelector('.opblock-summary-path', { timeout: 60_000 });
    const shown = await page.$$eval('.opblock-summary-path', (els) => els.map((e) => e.getAttribute('data-path') ?? e.textContent ?? ''));
    const title = await page.textContent('.info .title');
    await page.close();
    console.log(`/docs lists ${new Set(shown).size} paths (${shown.length} operations) of ${documented.length} documented`);
    expect([...new Set(shown.map((s) => s.replace(/\u200b/g, '').trim()))].sort()).toEqual(documented);
    expect(title).toContain('Sojourn API');
    expect(problems).toEqual([]);
  });
});

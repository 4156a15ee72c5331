/**
 * Preview of one email for one contact: HTML, text and (when Chromium is installed) a PNG screenshot.
 * Links are signed with a throw-away key, so clicking a preview link never unsubscribes or confirms
 * anyone; the open pixel and any remote resource are blocked while taking the screenshot.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../lib/config';
import { EmailRenderer, type RenderedEmail, type TemplateContact } from './render';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// Without the background-networking flags Chromium keeps dialling hosts this machine cannot reach.
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

export interface PreviewResult {
  rendered: RenderedEmail;
  htmlFile: string;
  textFile: string;
  /** Path of the PNG, or null with the reason it was skipped. */
  screenshot: { file: string } | { skipped: string };
}

/** Renders and writes `<out>/<template>.html|.txt|.png`. */
export async function writePreview(input: {
  templateId: string;
  contact: TemplateContact;
  email?: string | null;
  vars?: Record<string, unknown>;
  outDir: string;
  config: Pick<Config, 'publicBaseUrl' | 'mailDomain' | 'postalAddress' | 'adPrefix'>;
  templatesDir?: string;
  screenshot?: boolean;
}): Promise<PreviewResult> {
  const renderer = new EmailRenderer({
    templatesDir: input.templatesDir,
    publicBaseUrl: input.config.publicBaseUrl,
    mailDomain: input.config.mailDomain,
    postalAddress: input.config.postalAddress,
    secret: `preview-${crypto.randomBytes(16).toString('hex')}`,
    adPrefix: input.config.adPrefix,
  });
  const rendered = renderer.render(input.templateId, { contact: input.contact, email: input.email ?? null, vars: input.vars ?? {} }, { contactId: String(input.contact.id ?? 'preview'), sendKey: `preview:${input.templateId}` });
  fs.mkdirSync(input.outDir, { recursive: true });
  const htmlFile = path.join(input.outDir, `${input.templateId}.html`);
  const textFile = path.join(input.outDir, `${input.templateId}.txt`);
  fs.writeFileSync(htmlFile, rendered.html);
  fs.writeFileSync(textFile, `Subject: ${rendered.subject}\n\n${rendered.text}`);
  let screenshot: PreviewResult['screenshot'];
  if (input.screenshot === false) screenshot = { skipped: 'disabled (--no-screenshot)' };
  else if (!fs.existsSync(CHROMIUM_PATH)) screenshot = { skipped: `Chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH)` };
  else screenshot = await takeScreenshot(rendered.html, path.join(input.outDir, `${input.templateId}.png`));
  return { rendered, htmlFile, textFile, screenshot };
}

async function takeScreenshot(html: string, file: string): Promise<PreviewResult['screenshot']> {
  const { chromium } = await import('playwright-core');
  let browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_FLAGS, timeout: 30_000 });
  } catch (err) {
    return { skipped: `Chromium failed to start: ${(err as Error).message.split('\n')[0]}` };
  }
  try {
    const page = await browser.newPage({ viewport: { width: 680, height: 900 } });
    await page.route('**/*', (route) => (route.request().url().startsWith('data:') ? route.continue() : route.abort()));
    await page.setContent(html, { waitUntil: 'load', timeout: 15_000 });
    await page.screenshot({ path: file, fullPage: true });
    return { file };
  } finally {
    await browser.close();
  }
}

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
import { simpleParser, type ParsedMail } from 'mailparser';
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
const BROWSER_UA = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36';
const SCANNER_UA = 'Mozilla/5.0 (compatible; Barracuda Sentinel)';

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
    expect(journeys.map((j) => j.journeyId).sort()).toEqual(['birthday', 'holiday_greeting', 'newsletter', 'offer_test', 'order_survey', 'post_purchase', 'reengagement', 'renewal_reminder', 'service_due', 'survey_followup', 'verification', 'welcome']);

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

  async function mailTo(address: string, timeoutMs = 60_000): Promise<ParsedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const raw of smtp.messages) {
        const m = await simpleParser(raw);
        const to = m.to && !Array.isArray(m.to) ? m.to.value[0]?.address : undefined;
        if (to === address && /welcome/i.test(m.subject ?? '')) return m;
      }
      if (Date.now() > deadline) throw new Error(`no welcome email to ${address} within ${timeoutMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const clickLink = (m: ParsedMail) => String(m.html).match(new RegExp(`href="(${base}/r/[^"]+)"`))![1].replace(/&amp;/g, '&');
  const unsubscribeLink = (m: ParsedMail) => m.headerLines.find((h) => h.key === 'list-unsubscribe')!.line.match(/<(https?:[^>]+)>/)![1];

  type Report = Record<string, unknown> & {
    totals: { entered: number; converted: number; clicked: number; unsubscribed: number; sent: number; opened: number };
    versions: { steps: { stepId: string; kind: string; counts: Record<string, number> }[] }[];
    daily: Record<string, number | string>[];
    experiments: { variants: { name: string; entered: number; converted: number }[] }[];
    generatedAt: string;
  };
  const report = (id: string) => api<Report>('GET', `/v1/reports/journeys/${id}?since=7d`);
  const sameFigures = (a: Report, b: Report) => JSON.stringify({ ...a, generatedAt: '' }) === JSON.stringify({ ...b, generatedAt: '' });

  /** Polls the report API until `ok` holds (the counters are folded when a report is read). */
  async function reportWhen(id: string, ok: (r: Report) => boolean, what: string): Promise<Report> {
    const deadline = Date.now() + 120_000;
    let last: Report | null = null;
    while (Date.now() < deadline) {
      last = await report(id);
      if (ok(last)) return last;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    throw new Error(`the ${id} report never showed ${what}: ${JSON.stringify(last?.totals)}`);
  }

  /** Every leaf of the report that the page must show, by JSON pointer: numbers, and the nullable numbers (lift, relative lift, p-value) when null. */
  function figureLeaves(value: unknown, pointer = ''): [string, number | null][] {
    if (value === null) return /\/(lift|relative|pValue)$/.test(pointer) ? [[pointer, null]] : [];
    if (typeof value === 'number') return [[pointer, value]];
    if (Array.isArray(value)) return value.flatMap((v, i) => figureLeaves(v, `${pointer}/${i}`));
    if (typeof value === 'object') return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => figureLeaves(v, `${pointer}/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`));
    return [];
  }
  function at(doc: unknown, pointer: string): unknown {
    return pointer.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).reduce<unknown>((o, k) => (o as Record<string, unknown> | null)?.[k], doc);
  }
  /** Whether a figure's text says `value` to the precision it is written with. */
  function shows(text: string, format: string, value: unknown): boolean {
    if (value === null) return text === '–';
    if (typeof value !== 'number') return false;
    const n = Number(text.replace(/,/g, '').replace(/\s*(%|pp)$/, ''));
    if (!Number.isFinite(n)) return false;
    switch (format) {
      case 'count': return n === value && /^-?[\d,]+$/.test(text);
      case 'pct': case 'pp': return Math.abs(n / 100 - value) <= 0.0005 + 1e-12;
      case 'p': return Math.abs(n - value) <= Math.abs(value) * 0.005 + 1e-15;
      default: return false;
    }
  }

  /**
   * Opens a journey's page and compares it with the report API: every figure on the page says what the
   * API says at its pointer, every number of the API is on the page, and the charts hold the same numbers.
   * The API is read before and after the page; a report that moved in between is read again.
   */
  async function comparePageWithApi(page: Page, journeyId: string): Promise<{ report: Report; figures: number }> {
    for (let attempt = 0; ; attempt++) {
      const before = await report(journeyId);
      await page.goto(`${base}/dashboard/journeys/${journeyId}?since=7d`);
      await page.waitForFunction('window.Chart && Chart.getChart("funnel-chart") !== undefined', undefined, { timeout: 30_000 });
      const figures = await page.$$eval('[data-figure]', (els) => els.map((e) => ({ pointer: e.getAttribute('data-figure')!, format: e.getAttribute('data-format')!, text: (e.textContent ?? '').trim() })));
      const charts = (await page.evaluate(`[...document.querySelectorAll('canvas')].map((c) => { const ch = Chart.getChart(c); return { id: c.id, labels: ch.data.labels, data: ch.data.datasets.map((d) => ({ label: d.label, data: d.data })) }; })`)) as { id: string; labels: string[]; data: { label: string; data: number[] }[] }[];
      const after = await report(journeyId);
      if (!sameFigures(before, after)) {
        if (attempt < 5) continue;
        throw new Error('the report kept changing while the page was read');
      }
      const r = after;
      const wrong = figures.filter((f) => !shows(f.text, f.format, at(r, f.pointer))).map((f) => `${f.pointer}: page "${f.text}", API ${JSON.stringify(at(r, f.pointer))}`);
      expect(wrong).toEqual([]);
      const onPage = new Set(figures.map((f) => f.pointer));
      const missing = figureLeaves(r).map(([p]) => p).filter((p) => !onPage.has(p));
      expect(missing).toEqual([]);

      const chart = (id: string) => charts.find((c) => c.id === id)!;
      const t = r.totals;
      expect(chart('funnel-chart').data[0].data).toEqual([t.entered, t.sent, t.opened, t.clicked, t.converted]);
      expect(chart('daily-chart').labels).toEqual(r.daily.map((d) => d.day));
      for (const k of ['sent', 'entered', 'opened', 'clicked', 'converted']) {
        expect(chart('daily-chart').data.find((d) => d.label === k)!.data).toEqual(r.daily.map((d) => d[k]));
      }
      r.versions.forEach((v, vi) => {
        const sends = v.steps.filter((s) => s.kind === 'send');
        expect(chart(`steps-chart-${vi}`).labels).toEqual(sends.map((s) => s.stepId));
        expect(chart(`steps-chart-${vi}`).data.find((d) => d.label === 'sent')!.data).toEqual(sends.map((s) => s.counts.sent));
        expect(chart(`steps-chart-${vi}`).data.find((d) => d.label === 'clicked')!.data).toEqual(sends.map((s) => s.counts.clicked));
      });
      r.experiments.forEach((e, ei) => {
        expect(chart(`experiment-chart-${ei}`).labels).toEqual(e.variants.map((v) => v.name));
      });
      return { report: r, figures: figures.length };
    }
  }

  const contactIds: Record<string, string> = {};

  it('shows the report of real traffic exactly as GET /v1/reports/journeys/{id} gives it: funnel, steps, daily figures and the experiment', async () => {
    // Ten sign-ups through the API: three plain ones, seven tagged for the A/B test (they enter welcome too).
    const stamp = Date.now();
    const people = ['ana', 'cai', 'dan', 'bo', 't2', 't3', 't4', 't5', 't6', 't7'].map((name, i) => ({ name, email: `dash.${name}.${stamp}@example.com`, tagged: i >= 3 }));
    for (const p of people) {
      const { id } = await api<{ id: string }>('POST', '/v1/contacts', { email: p.email, firstName: p.name, timezone: zone, consent: { email: 'subscribed' }, tags: p.tagged ? ['offer_test'] : [] });
      contactIds[p.name] = id;
    }
    const mails = Object.fromEntries(await Promise.all(people.map(async (p) => [p.name, await mailTo(p.email)] as const)));
    // A person clicks later than a link scanner would (a click within 2 s of the send is a scanner's).
    await new Promise((r) => setTimeout(r, 2_500));
    const click = await fetch(clickLink(mails.ana), { redirect: 'manual', headers: { 'user-agent': BROWSER_UA } });
    expect(click.status).toBe(302);
    // A link scanner checks Dan's link: a machine click, shown apart.
    await fetch(clickLink(mails.dan), { method: 'HEAD', redirect: 'manual', headers: { 'user-agent': SCANNER_UA } });
    await fetch(clickLink(mails.dan), { redirect: 'manual', headers: { 'user-agent': SCANNER_UA } });
    // Cai unsubscribes with the one-click header.
    const unsub = await fetch(unsubscribeLink(mails.cai), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(unsub.status).toBe(200);
    // Bo (in the A/B test too) orders once both runs are there: a conversion in welcome and in the test.
    const deadline = Date.now() + 60_000;
    while ((await api<{ runs: unknown[] }>('GET', `/v1/journeys/offer_test/contacts/${contactIds.bo}`)).runs.length === 0) {
      if (Date.now() > deadline) throw new Error('no offer_test run for bo');
      await new Promise((r) => setTimeout(r, 500));
    }
    expect((await fetch(`${base}/v1/events`, { method: 'POST', headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ contactId: contactIds.bo, name: 'order.completed', data: { amount: 42 } }) })).status).toBe(202);

    const welcome = await reportWhen('welcome', (r) => r.totals.entered === 10 && r.totals.clicked === 1 && r.totals.unsubscribed === 1 && r.totals.converted === 1, '10 entered, 1 click, 1 unsubscribe, 1 conversion');
    const sendWelcome = welcome.versions[0].steps.find((s) => s.stepId === 'send_welcome')!.counts;
    expect([sendWelcome.sent, sendWelcome.clicked, sendWelcome.machineClicked, sendWelcome.unsubscribed]).toEqual([10, 1, 1, 1]);
    const test = await reportWhen('offer_test', (r) => r.experiments[0]?.variants.reduce((n, v) => n + v.entered, 0) === 7 && r.totals.converted === 1, '7 in the variants and 1 conversion');
    expect(test.experiments[0].variants.map((v) => v.name)).toEqual(['a', 'b', 'holdout']);

    const { page, problems } = await newPage();
    await logIn(page);
    const w = await comparePageWithApi(page, 'welcome');
    const o = await comparePageWithApi(page, 'offer_test');
    console.log(`dashboard = API: welcome ${w.figures} figures (entered ${w.report.totals.entered}, clicked ${w.report.totals.clicked}, unsubscribed ${w.report.totals.unsubscribed}, converted ${w.report.totals.converted}); offer_test ${o.figures} figures (variants ${o.report.experiments[0].variants.map((v) => `${v.name} ${v.entered}/${v.converted}`).join(', ')})`);
    // The README's experiment screenshot (the demo has no A/B test): DASHBOARD_SCREENSHOTS=docs/img npm test -- test/e2e/dashboard
    const shots = process.env.DASHBOARD_SCREENSHOTS;
    if (shots) {
      await page.goto(`${base}/dashboard/journeys/offer_test?since=7d`);
      const box = await page.locator('table.experiment').boundingBox();
      const top = await page.locator('h2:has-text("Experiments")').boundingBox();
      await page.screenshot({ path: path.join(shots, 'dashboard-experiment.png'), fullPage: true, clip: { x: 0, y: top!.y - 8, width: 1280, height: box!.y + box!.height - top!.y + 16 } });
    }
    await page.close();
    expect(problems).toEqual([]);
  });

  /** The samples of a Prometheus text page: `name{labels}` -> value. */
  function samples(text: string): Map<string, number> {
    const out = new Map<string, number>();
    for (const line of text.split('\n')) {
      const m = /^([a-z_:][a-z0-9_:]*(?:\{[^}]*\})?) (\S+)$/i.exec(line);
      if (m) out.set(m[1], Number(m[2]));
    }
    return out;
  }
  /** Sum of a metric's samples whose labels include every `label="value"` given. */
  const total = (s: Map<string, number>, name: string, ...labels: string[]) =>
    [...s].filter(([k]) => (k === name || k.startsWith(`${name}{`)) && labels.every((l) => k.includes(l))).reduce((n, [, v]) => n + v, 0);

  it("serves /metrics with the traffic's sends, gate decisions, runs started and ended, activity latency and HTTP requests", async () => {
    // The process is quiet once every email the SMTP server took is counted as sent (the count follows the relay's answer).
    let s = new Map<string, number>();
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      s = samples(await res.text());
      if (total(s, 'sojourn_sends_total', 'outcome="sent"') === smtp.messages.length) break;
      if (Date.now() > deadline) throw new Error(`sends counted ${total(s, 'sojourn_sends_total', 'outcome="sent"')}, emails received ${smtp.messages.length}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    const sent = smtp.messages.length;
    const figures = {
      sent, sends: total(s, 'sojourn_sends_total', 'outcome="sent"'),
      gateSend: total(s, 'sojourn_gate_decisions_total', 'decision="send"'),
      welcomeStarted: total(s, 'sojourn_runs_started_total', 'journey="welcome"'),
      offerStarted: total(s, 'sojourn_runs_started_total', 'journey="offer_test"'),
      welcomeExited: total(s, 'sojourn_runs_ended_total', 'journey="welcome"', 'outcome="exited"'),
      welcomeConverted: total(s, 'sojourn_runs_ended_total', 'journey="welcome"', 'outcome="converted"'),
      offerConverted: total(s, 'sojourn_runs_ended_total', 'journey="offer_test"', 'outcome="converted"'),
      sendEmailTimed: total(s, 'sojourn_activity_duration_seconds_count', 'activity="sendEmail"', 'result="ok"'),
      signUps: total(s, 'sojourn_http_requests_total', 'method="POST"', 'route="/v1/contacts"', 'status="201"'),
      orders: total(s, 'sojourn_events_ingested_total', 'name="order.completed"'),
    };
    console.log(`/metrics after the traffic: ${JSON.stringify(figures)}`);
    // Ten sign-ups: ten welcome emails at least (the A/B test's variants send too).
    expect(sent).toBeGreaterThanOrEqual(10);
    expect(figures.gateSend).toBeGreaterThanOrEqual(sent);
    expect(figures.sendEmailTimed).toBeGreaterThanOrEqual(sent);
    expect([figures.welcomeStarted, figures.offerStarted]).toEqual([10, 7]);
    // Cai's unsubscribe ended a welcome run; Bo's order converted his welcome and A/B test runs.
    expect([figures.welcomeExited, figures.welcomeConverted, figures.offerConverted]).toEqual([1, 1, 1]);
    expect(figures.signUps).toBe(10);
    expect(figures.orders).toBe(1);
    // The route pattern, never a link's token.
    expect(total(s, 'sojourn_http_requests_total', 'route="/r/*"')).toBeGreaterThanOrEqual(3);
    expect([...s.keys()].some((k) => k.includes(contactIds.ana) || /\/r\/[A-Za-z0-9_-]{8,}/.test(k))).toBe(false);
  });

  it("links a journey to its runs in the Temporal UI, which shows the journey's run", async () => {
    const id = contactIds.ana;
    expect(id).toBeTruthy();
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

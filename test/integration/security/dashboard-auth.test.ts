/**
 * How a browser gets into the dashboard, through the real HTTP server: a login form exchanges the API
 * key (in a POST body, never a URL) for an HttpOnly, SameSite=Strict session cookie; the forms need a
 * CSRF token and a same-origin request; the cookie opens the dashboard's pages and nothing under /v1;
 * a tampered or foreign cookie opens nothing. The page policy allows this origin's scripts only.
 */
import fc from 'fast-check';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildServer } from '../../../server/app';
import { loadConfig } from '../../../lib/config';
import { useTestDatabase } from '../../helpers/db';
import { initDatabase } from '../../../data/db';
import { issueSession, sessionKey } from '../../../server/dashboard/session';

const API_KEY = 'dashboard-auth-key-0123456789abcdef01234567';
const config = { ...loadConfig({ SOJOURN_ENV: 'development' }), apiKey: API_KEY };

jest.setTimeout(60_000);

function cookiesOf(res: LightMyRequestResponse): Record<string, { value: string; attrs: string }> {
  const raw = res.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  return Object.fromEntries(list.map((c) => {
    const [pair, ...attrs] = c.split(';');
    const i = pair.indexOf('=');
    return [pair.slice(0, i), { value: pair.slice(i + 1), attrs: attrs.map((a) => a.trim()).join('; ') }];
  }));
}

describe('dashboard login', () => {
  useTestDatabase('dashauth');
  let app: FastifyInstance;
  beforeAll(async () => {
    await initDatabase();
    app = await buildServer({ config, logLevel: 'silent' });
    await app.ready();
  });
  afterAll(async () => app?.close());

  /** GET the login form: its CSRF cookie and the token from the form. */
  async function loginForm() {
    const res = await app.inject({ method: 'GET', url: '/dashboard/login' });
    expect(res.statusCode).toBe(200);
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
    const csrfCookie = cookiesOf(res).sojourn_csrf;
    expect(token).toBeTruthy();
    expect(csrfCookie).toBeTruthy();
    return { res, token: token!, csrfCookie: `sojourn_csrf=${csrfCookie.value}` };
  }

  async function login(apiKey: string, extra: { headers?: Record<string, string>; token?: string | null } = {}) {
    const form = await loginForm();
    const fields = new URLSearchParams({ apiKey });
    if (extra.token !== null) fields.set('_csrf', extra.token ?? form.token);
    return app.inject({
      method: 'POST', url: '/dashboard/login', payload: fields.toString(),
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: form.csrfCookie, ...extra.headers },
    });
  }

  it('sends a browser without a session to the login form, whose page allows only this origin\'s scripts', async () => {
    for (const url of ['/dashboard', '/dashboard/journeys/welcome']) {
      const res = await app.inject({ method: 'GET', url });
      expect([res.statusCode, res.headers.location]).toEqual([303, '/dashboard/login']);
    }
    const { res, csrfCookie } = await loginForm();
    expect(res.body).toContain('type="password"');
    expect(res.body).toContain('method="post" action="/dashboard/login"');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('http');
    expect(res.body).not.toMatch(/<script(?![^>]*\bsrc=)(?![^>]*application\/json)/);
    expect(res.body).not.toMatch(/\sstyle=/);
    expect(csrfCookie).toMatch(/^sojourn_csrf=/);
    expect(cookiesOf(res).sojourn_csrf.attrs).toMatch(/HttpOnly/);
    expect(cookiesOf(res).sojourn_csrf.attrs).toMatch(/SameSite=Strict/);
  });

  it('exchanges the right key for an HttpOnly, SameSite=Strict session cookie limited to /dashboard', async () => {
    const res = await login(API_KEY, { headers: { origin: 'http://localhost:80', 'sec-fetch-site': 'same-origin' } });
    expect([res.statusCode, res.headers.location]).toEqual([303, '/dashboard']);
    const session = cookiesOf(res).sojourn_dashboard;
    expect(session.value).toMatch(/^v1\.\d+\.[\w-]{22}\.[\w-]{43}$/);
    expect(session.value).not.toContain(API_KEY);
    expect(session.attrs.split('; ').sort()).toEqual(['HttpOnly', 'Max-Age=28800', 'Path=/dashboard', 'SameSite=Strict'].sort());
    const page = await app.inject({ method: 'GET', url: '/dashboard', headers: { cookie: `sojourn_dashboard=${session.value}` } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<h1>Journeys</h1>');
    expect(page.headers['cache-control']).toBe('no-store');
  });

  it('refuses a wrong key, a missing CSRF token and a cross-site form, setting no session', async () => {
    const wrong = await login(`${API_KEY}x`);
    expect(wrong.statusCode).toBe(401);
    expect(wrong.body).toContain('not the API key');
    const noToken = await login(API_KEY, { token: null });
    expect(noToken.statusCode).toBe(403);
    const badToken = await login(API_KEY, { token: 'forged-token' });
    expect(badToken.statusCode).toBe(403);
    const crossOrigin = await login(API_KEY, { headers: { origin: 'https://evil.example' } });
    expect(crossOrigin.statusCode).toBe(403);
    const crossSite = await login(API_KEY, { headers: { 'sec-fetch-site': 'cross-site' } });
    expect(crossSite.statusCode).toBe(403);
    const opaque = await login(API_KEY, { headers: { origin: 'null' } });
    expect(opaque.statusCode).toBe(403);
    for (const r of [wrong, noToken, badToken, crossOrigin, crossSite, opaque]) expect(cookiesOf(r).sojourn_dashboard).toBeUndefined();
  });

  it('never takes the key from a URL', async () => {
    for (const url of [`/dashboard?apiKey=${API_KEY}`, `/dashboard/login?apiKey=${API_KEY}`, `/dashboard?key=${API_KEY}`]) {
      const res = await app.inject({ method: 'GET', url });
      expect(cookiesOf(res).sojourn_dashboard).toBeUndefined();
      if (url.startsWith('/dashboard?')) expect(res.statusCode).toBe(303);
    }
  });

  it('opens no /v1 route with the session cookie', async () => {
    const cookie = `sojourn_dashboard=${issueSession(sessionKey(config.secret, API_KEY), new Date())}`;
    expect((await app.inject({ method: 'GET', url: '/dashboard', headers: { cookie } })).statusCode).toBe(200);
    for (const url of ['/v1/journeys', '/v1/contacts/65a1b2c3d4e5f60718293a4b']) {
      const res = await app.inject({ method: 'GET', url, headers: { cookie } });
      expect(res.statusCode).toBe(401);
    }
  });

  it('refuses expired, tampered and foreign cookies, and arbitrary cookie text, without a 5xx', async () => {
    const key = sessionKey(config.secret, API_KEY);
    const valid = issueSession(key, new Date());
    const refused = [
      issueSession(key, new Date(Date.now() - 9 * 3600_000)),
      issueSession(sessionKey(config.secret, 'another-api-key'), new Date()),
      valid.slice(0, -2) + (valid.endsWith('AA') ? 'BB' : 'AA'),
    ];
    for (const v of refused) {
      const res = await app.inject({ method: 'GET', url: '/dashboard', headers: { cookie: `sojourn_dashboard=${v}` } });
      expect([res.statusCode, res.headers.location]).toEqual([303, '/dashboard/login']);
    }
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 120 }), async (s) => {
        const res = await app.inject({ method: 'GET', url: '/dashboard', headers: { cookie: `sojourn_dashboard=${encodeURIComponent(s)}; sojourn_csrf=${encodeURIComponent(s)}` } });
        return res.statusCode === 303;
      }),
      { numRuns: 200 },
    );
  });

  it('answers generated login bodies and journey ids without a 5xx and without a session', async () => {
    const form = await loginForm();
    const session = `sojourn_dashboard=${issueSession(sessionKey(config.secret, API_KEY), new Date())}`;
    const statuses: Record<number, number> = {};
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ maxLength: 300 }), fc.dictionary(fc.constantFrom('apiKey', '_csrf', 'x', '__proto__', 'apiKey[]'), fc.string({ maxLength: 60 })).map((d) => new URLSearchParams(d).toString())),
        fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', 'multipart/form-data; boundary=x'),
        fc.boolean(),
        async (payload, type, withToken) => {
          const body = withToken ? `${payload}&_csrf=${encodeURIComponent(form.token)}` : payload;
          const res = await app.inject({ method: 'POST', url: '/dashboard/login', payload: body, headers: { 'content-type': type, cookie: form.csrfCookie } });
          statuses[res.statusCode] = (statuses[res.statusCode] ?? 0) + 1;
          return res.statusCode < 500 && cookiesOf(res).sojourn_dashboard === undefined;
        },
      ),
      { numRuns: 300 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 80 }), async (id) => {
        const res = await app.inject({ method: 'GET', url: `/dashboard/journeys/${encodeURIComponent(id)}`, headers: { cookie: session } });
        return res.statusCode === 404 && !res.body.includes('<script>');
      }),
      { numRuns: 200 },
    );
    for (const q of ['since=abc', 'since=0d', 'since=401d', 'version=0', 'version=x', 'since=7d&version=1e3']) {
      const res = await app.inject({ method: 'GET', url: `/dashboard/journeys/welcome?${q}`, headers: { cookie: session } });
      expect([q, res.statusCode]).toEqual([q, 400]);
    }
    console.log(`generated login posts by status: ${JSON.stringify(statuses)}`);
  });

  it('logs out with the form (CSRF token required), clearing the cookie', async () => {
    const cookie = `sojourn_dashboard=${issueSession(sessionKey(config.secret, API_KEY), new Date())}`;
    const page = await app.inject({ method: 'GET', url: '/dashboard', headers: { cookie } });
    const token = /action="\/dashboard\/logout"><input type="hidden" name="_csrf" value="([^"]+)"/.exec(page.body)?.[1];
    expect(token).toBeTruthy();
    const csrfCookie = `sojourn_csrf=${cookiesOf(page).sojourn_csrf.value}`;
    const forged = await app.inject({ method: 'POST', url: '/dashboard/logout', payload: '_csrf=nope', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${cookie}; ${csrfCookie}` } });
    expect(forged.statusCode).toBe(403);
    const res = await app.inject({ method: 'POST', url: '/dashboard/logout', payload: `_csrf=${encodeURIComponent(token!)}`, headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `${cookie}; ${csrfCookie}` } });
    expect([res.statusCode, res.headers.location]).toEqual([303, '/dashboard/login']);
    const cleared = cookiesOf(res).sojourn_dashboard;
    expect(cleared.value).toBe('');
    expect(cleared.attrs).toMatch(/Expires=Thu, 01 Jan 1970/);
  });

  it('serves Chart.js and its own script and styles from this origin', async () => {
    const chart = await app.inject({ method: 'GET', url: '/dashboard/assets/chart.umd.min.js' });
    expect(chart.statusCode).toBe(200);
    expect(chart.headers['content-type']).toMatch(/^text\/javascript/);
    expect(chart.body).toMatch(/Chart\.js v4\.6\.1/);
    expect((await app.inject({ method: 'GET', url: '/dashboard/assets/dashboard.js' })).body).toContain('new Chart(');
    expect((await app.inject({ method: 'GET', url: '/dashboard/assets/dashboard.css' })).headers['content-type']).toMatch(/^text\/css/);
    expect((await app.inject({ method: 'GET', url: '/dashboard/assets/../../package.json' })).statusCode).toBe(404);
  });
});

/**
 * The dashboard at /dashboard: the deployed journeys (live version, paused, a link to their runs in the
 * Temporal UI) and, per journey, the report of `GET /v1/reports/journeys/{id}` (the same function,
 * engine/journey-report.ts) as tables and charts, for a period (`?since=7d`) and optionally one version.
 *
 * How a browser authenticates (the API key must never be in a URL): GET /dashboard/login shows a form;
 * POST /dashboard/login takes the key in the body and sets a session cookie (server/dashboard/session.ts)
 * that is HttpOnly, SameSite=Strict, limited to /dashboard, Secure over HTTPS. That cookie opens the
 * dashboard's pages only, never /v1, so it cannot be used to change anything through the API.
 * CSRF: the only POSTs are log in and log out; both need a CSRF token (@fastify/csrf-protection, secret
 * in a signed SameSite=Strict cookie) and a same-origin `Origin` / `Sec-Fetch-Site` when the browser
 * sends them. Every page is a GET that changes nothing. Logging in is rate limited (20 a minute per
 * client, with the public endpoints' limits), and the request log never has a body.
 *
 * CSP: scripts, styles and images from this origin only (Chart.js is served from node_modules under
 * /dashboard/assets, no CDN), no inline script or style, no fetches, no framing.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import type { Config } from '../../lib/config';
import { safeEqual } from '../../lib/crypto';
import { journeySummaries } from '../../engine/journey-control';
import { getJourneyPlan } from '../../data/journey-versions';
import { journeyReport, parseSince } from '../../engine/journey-report';
import { reportSection } from './report-view';
import { csrfCookieKey, issueSession, SESSION_COOKIE, SESSION_TTL_SECONDS, sessionKey, verifySession } from './session';
import { ASSETS_PATH, DASHBOARD_PATH, errorPage, journeyPage, journeysPage, loginPage, type JourneyRow } from './pages';
import { temporalUiJourneyUrl } from './temporal-ui-link';
import type { CspDirectives } from '../protection';

export { DASHBOARD_PATH } from './pages';

/** The dashboard's Content-Security-Policy (helmet form): this origin's scripts, styles and images only. */
export const DASHBOARD_CSP: CspDirectives = {
  defaultSrc: ["'none'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
  baseUri: ["'none'"],
};

export interface DashboardOptions {
  config: Pick<Config, 'apiKey' | 'secret' | 'temporalNamespace' | 'temporalUiUrl'>;
  now?: () => Date;
}

const CSRF_COOKIE = 'sojourn_csrf';
const LOGIN_RATE_LIMIT = { max: 20, timeWindow: 60_000 };

interface Asset { file: string; type: string }

/** The static files: the pinned Chart.js build from node_modules and the dashboard's own script and styles. */
function assets(): Record<string, Asset> {
  const chartDist = path.dirname(require.resolve('chart.js'));
  return {
    'chart.umd.min.js': { file: path.join(chartDist, 'chart.umd.min.js'), type: 'text/javascript; charset=utf-8' },
    'dashboard.js': { file: path.join(__dirname, 'assets', 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
    'dashboard.css': { file: path.join(__dirname, 'assets', 'dashboard.css'), type: 'text/css; charset=utf-8' },
  };
}

/** The request's own origin as a browser would send it in `Origin`. */
function ownOrigin(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}`;
}

/**
 * Refuses (403) a POST a browser says is cross-site: `Sec-Fetch-Site` other than same-origin/none, or an
 * `Origin` other than this server's. Clients that send neither (curl) rely on the CSRF token alone.
 */
async function sameOriginOnly(req: FastifyRequest, reply: FastifyReply) {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  const crossSite = (typeof site === 'string' && site !== 'same-origin' && site !== 'none') || (typeof origin === 'string' && origin !== ownOrigin(req));
  if (crossSite) return reply.code(403).type('text/html; charset=utf-8').send(errorPage(403, 'This form must be sent from the dashboard itself.'));
}

export const dashboardPlugin: FastifyPluginAsync<DashboardOptions> = async (app: FastifyInstance, opts: DashboardOptions) => {
  const now = opts.now ?? (() => new Date());
  const key = sessionKey(opts.config.secret, opts.config.apiKey);
  const cookieBase = { path: DASHBOARD_PATH, httpOnly: true, sameSite: 'strict' as const, secure: 'auto' as const };

  await app.register(cookie, { secret: csrfCookieKey(opts.config.secret, opts.config.apiKey) });
  await app.register(formbody, { bodyLimit: 8 * 1024 });
  await app.register(csrf, { cookieKey: CSRF_COOKIE, cookieOpts: { ...cookieBase, signed: true } });

  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) req.log.error({ err: err.message, route: req.routeOptions.url }, 'dashboard error');
    const message = err.code === 'FST_CSRF_INVALID_TOKEN' || err.code === 'FST_CSRF_MISSING_SECRET'
      ? 'The form expired or did not come from this dashboard; reload the page and try again.'
      : status === 500 ? 'Something went wrong on the server.' : err.message;
    return reply.code(status).type('text/html; charset=utf-8').send(errorPage(status, message));
  });

  const files = assets();
  for (const [name, asset] of Object.entries(files)) {
    const body = fs.readFileSync(asset.file);
    app.get(`${ASSETS_PATH}/${name}`, async (_req, reply) => reply.type(asset.type).header('cache-control', 'public, max-age=300').send(body));
  }

  /** The deployed journeys as GET /v1/journeys lists them, with their names and Temporal UI links. */
  const journeyRows = async (): Promise<JourneyRow[]> =>
    Promise.all(
      (await journeySummaries()).map(async (j) => ({
        ...j,
        name: (await getJourneyPlan(j.journeyId, j.liveVersion))?.name ?? null,
        temporalUrl: temporalUiJourneyUrl(opts.config.temporalUiUrl, opts.config.temporalNamespace, j.journeyId),
      })),
    );

  const loggedIn = (req: FastifyRequest) => verifySession(key, req.cookies[SESSION_COOKIE], now()).ok;
  const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(body);

  app.get(`${DASHBOARD_PATH}/login`, async (req, reply) => {
    if (loggedIn(req)) return reply.redirect(DASHBOARD_PATH, 303);
    return html(reply, 200, loginPage(reply.generateCsrf()));
  });

  app.post<{ Body: { apiKey?: unknown } }>(
    `${DASHBOARD_PATH}/login`,
    { onRequest: sameOriginOnly, preHandler: app.csrfProtection, config: { rateLimit: LOGIN_RATE_LIMIT } },
    async (req, reply) => {
      const given = req.body && typeof req.body === 'object' ? req.body.apiKey : undefined;
      if (typeof given !== 'string' || !safeEqual(given, opts.config.apiKey)) {
        return html(reply, 401, loginPage(reply.generateCsrf(), 'That is not the API key of this server.'));
      }
      reply.setCookie(SESSION_COOKIE, issueSession(key, now()), { ...cookieBase, maxAge: SESSION_TTL_SECONDS });
      return reply.redirect(DASHBOARD_PATH, 303);
    },
  );

  app.post(`${DASHBOARD_PATH}/logout`, { onRequest: sameOriginOnly, preHandler: app.csrfProtection }, async (_req, reply) => {
    reply.clearCookie(SESSION_COOKIE, cookieBase);
    return reply.redirect(`${DASHBOARD_PATH}/login`, 303);
  });

  app.get(`${DASHBOARD_PATH}/`, async (_req, reply) => reply.redirect(DASHBOARD_PATH, 301));

  // Every page below needs a session: without one a browser is sent to the login form.
  await app.register(async (pages) => {
    pages.addHook('onRequest', async (req, reply) => {
      if (!loggedIn(req)) return reply.header('cache-control', 'no-store').redirect(`${DASHBOARD_PATH}/login`, 303);
    });

    pages.get(DASHBOARD_PATH, async (_req, reply) => html(reply, 200, journeysPage(await journeyRows(), reply.generateCsrf())));

    pages.get<{ Params: { id: string }; Querystring: { since?: unknown; version?: unknown } }>(`${DASHBOARD_PATH}/journeys/:id`, async (req, reply) => {
      const since = typeof req.query.since === 'string' ? req.query.since : '30d';
      const sinceDays = parseSince(since);
      if (sinceDays === null) return html(reply, 400, errorPage(400, 'The period must be 1d to 400d, e.g. 30d.'));
      const versionText = typeof req.query.version === 'string' ? req.query.version : undefined;
      if (versionText !== undefined && !/^[1-9]\d{0,5}$/.test(versionText)) return html(reply, 400, errorPage(400, 'The version must be a version number.'));
      const row = (await journeyRows()).find((r) => r.journeyId === req.params.id);
      if (!row) return html(reply, 404, errorPage(404, `No journey "${req.params.id}" is deployed.`));
      // The same call as GET /v1/reports/journeys/{id} (server/api/reports-routes.ts).
      const r = await journeyReport(row.journeyId, { sinceDays, version: versionText === undefined ? undefined : Number(versionText) });
      if (!r.found) return html(reply, 404, errorPage(404, `No journey "${req.params.id}" is deployed.`));
      return html(reply, 200, journeyPage(row, reply.generateCsrf(), reportSection(r.report, since, versionText === undefined ? undefined : Number(versionText))));
    });
  });
};

export default dashboardPlugin;

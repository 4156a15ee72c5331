/**
 * The dashboard's HTML, rendered on the server: every number is in the page's text (tables), and the
 * charts are drawn in the browser by Chart.js from a JSON data block of the same numbers. Every value
 * is escaped; the JSON block is escaped for a script element. No inline script or style: the page's
 * CSP allows scripts and styles from this origin only (server/dashboard/index.ts).
 */
import Handlebars from 'handlebars';
import type { JourneySummary } from '../../engine/journey-control';
import { journeyRunsQuery } from './temporal-ui-link';

const esc = Handlebars.escapeExpression;

export const DASHBOARD_PATH = '/dashboard';
export const ASSETS_PATH = `${DASHBOARD_PATH}/assets`;

/** JSON for a `<script type="application/json">` block: nothing in it can close the element or open a comment. */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export interface Shell {
  title: string;
  /** The logout form's CSRF token; absent on the login page. */
  csrfToken?: string;
  /** Data for the charts (dashboard.js reads it); absent: no chart script is loaded. */
  chartData?: unknown;
}

/** A complete page around `body` (trusted HTML built here from escaped parts). */
export function shell(s: Shell, body: string): string {
  const logout = s.csrfToken
    ? `<form class="logout" method="post" action="${DASHBOARD_PATH}/logout"><input type="hidden" name="_csrf" value="${esc(s.csrfToken)}"><button type="submit">Log out</button></form>`
    : '';
  const scripts = s.chartData === undefined
    ? ''
    : `<script type="application/json" id="chart-data">${jsonForScript(s.chartData)}</script>
<script src="${ASSETS_PATH}/chart.umd.min.js"></script>
<script src="${ASSETS_PATH}/dashboard.js"></script>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${esc(s.title)} · Sojourn</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSETS_PATH}/dashboard.css"></head>
<body><header><a class="brand" href="${DASHBOARD_PATH}">Sojourn dashboard</a>${logout}</header>
<main>${body}</main>
${scripts}
</body></html>`;
}

/** The login form: the API key goes in a POST body, never in a URL. */
export function loginPage(csrfToken: string, error?: string): string {
  const problem = error ? `<p class="error" role="alert">${esc(error)}</p>` : '';
  return shell({ title: 'Log in' }, `<section class="login">
<h1>Log in</h1>
<p>Enter the API key of this Sojourn server (<code>SOJOURN_API_KEY</code>). It is exchanged for a session cookie of 8 hours.</p>
${problem}
<form method="post" action="${DASHBOARD_PATH}/login">
<input type="hidden" name="_csrf" value="${esc(csrfToken)}">
<label for="apiKey">API key</label>
<input id="apiKey" name="apiKey" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Log in</button>
</form>
</section>`);
}

/** An error page (bad CSRF token, rate limit, unknown journey) with a way back. */
export function errorPage(status: number, message: string): string {
  return shell({ title: `Error ${status}` }, `<h1>Error ${status}</h1><p class="error" role="alert">${esc(message)}</p><p><a href="${DASHBOARD_PATH}">Back to the dashboard</a></p>`);
}

/** The link to a journey's runs in the Temporal UI, or the filter as text when no UI is configured. */
export function temporalLink(url: string | null, journeyId: string): string {
  const query = journeyRunsQuery(journeyId);
  return url
    ? `<a class="temporal" data-journey="${esc(journeyId)}" href="${esc(url)}" rel="noopener noreferrer">Runs in Temporal UI</a>`
    : `<code title="set TEMPORAL_UI_URL for a link">${esc(query)}</code>`;
}

export interface JourneyRow extends JourneySummary {
  name: string | null;
  temporalUrl: string | null;
}

function state(paused: boolean): string {
  return paused ? '<span class="state paused">paused</span>' : '<span class="state live">live</span>';
}

/** The journeys list: each with its live version, paused state and the Temporal UI filter of its runs. */
export function journeysPage(rows: JourneyRow[], csrfToken: string): string {
  const body = rows.length === 0
    ? '<p>No journey is deployed yet: <code>sojourn deploy journeys/</code>.</p>'
    : `<table class="journeys"><thead><tr><th>Journey</th><th>Name</th><th class="num">Live version</th><th class="num">Versions</th><th>State</th><th>Trigger</th><th>Runs</th></tr></thead><tbody>
${rows.map((r) => `<tr data-journey="${esc(r.journeyId)}">
<td><a class="journey" href="${DASHBOARD_PATH}/journeys/${encodeURIComponent(r.journeyId)}">${esc(r.journeyId)}</a></td>
<td>${esc(r.name ?? '')}</td>
<td class="num live-version">${r.liveVersion}</td>
<td class="num">${r.versions.length}</td>
<td class="paused-state">${state(r.paused)}</td>
<td>${esc(r.triggerKind)}${r.triggerEvent ? ` <code>${esc(r.triggerEvent)}</code>` : ''}</td>
<td>${temporalLink(r.temporalUrl, r.journeyId)}</td>
</tr>`).join('\n')}
</tbody></table>`;
  return shell({ title: 'Journeys', csrfToken }, `<h1>Journeys</h1>\n${body}`);
}

/** A journey's page: its state and versions; `report` is the report section (HTML and chart data). */
export function journeyPage(row: JourneyRow, csrfToken: string, report: { html: string; chartData?: unknown }): string {
  const versions = [...row.versions].reverse().map((v) => `<tr${v.live ? ' class="live"' : ''}><td class="num">${v.version}</td><td>${v.live ? state(row.paused) : ''}</td><td>${esc(new Date(v.deployedAt).toISOString().replace('T', ' ').slice(0, 16))} UTC</td><td><code>${esc(v.hash.slice(0, 12))}</code></td></tr>`).join('\n');
  const body = `<h1>${esc(row.name ?? row.journeyId)}</h1>
<p class="meta"><span>journey <code id="journey-id">${esc(row.journeyId)}</code></span><span>live version <strong id="live-version" data-figure="/liveVersion" data-format="count">${row.liveVersion}</strong></span><span id="paused-state">${state(row.paused)}</span><span>${temporalLink(row.temporalUrl, row.journeyId)}</span></p>
${report.html}
<h2>Versions</h2>
<table class="versions"><thead><tr><th class="num">Version</th><th>State</th><th>Deployed</th><th>Plan hash</th></tr></thead><tbody>
${versions}
</tbody></table>`;
  return shell({ title: row.journeyId, csrfToken, chartData: report.chartData }, body);
}

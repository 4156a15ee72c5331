/**
 * A journey's report (engine/journey-report.ts, the object `GET /v1/reports/journeys/{id}` answers) as
 * the dashboard shows it: headline figures, the funnel and per-step charts, the per-step table of every
 * version, daily figures and the experiments with their lift and interval.
 *
 * Every number on the page carries `data-figure` = the JSON pointer of that number in the API's answer
 * and `data-format` = how it is written, so the browser test can check each one against the API and
 * check that none is missing. Chart data is built here from the same objects.
 */
import Handlebars from 'handlebars';
import type { JourneyReport, ReportVersion, StepCounts } from '../../engine/journey-report';

const esc = Handlebars.escapeExpression;

/** How a figure is written: a count, a fraction as a percentage, a difference in percentage points, a p-value. */
export type FigureFormat = 'count' | 'pct' | 'pp' | 'p';

/** The text of a figure (null: an en dash, e.g. no lift for the holdout itself). */
export function formatFigure(value: number | null, format: FigureFormat): string {
  if (value === null) return '–';
  const sign = (v: number) => (v > 0 ? '+' : '');
  switch (format) {
    case 'count': return value.toLocaleString('en-US');
    case 'pct': return `${(value * 100).toFixed(1)} %`;
    case 'pp': return `${sign(value)}${(value * 100).toFixed(1)} pp`;
    case 'p': return value.toPrecision(3);
  }
}

const ptr = (...parts: (string | number)[]) => '/' + parts.map((p) => String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

/** One figure as an element the test can find by pointer. */
function fig(tag: 'td' | 'span' | 'div', pointer: string, value: number | null, format: FigureFormat = 'count', cls = ''): string {
  const c = [tag === 'td' ? 'num' : '', cls].filter(Boolean).join(' ');
  return `<${tag}${c ? ` class="${c}"` : ''} data-figure="${esc(pointer)}" data-format="${format}">${esc(formatFigure(value, format))}</${tag}>`;
}

/** A by-reason map (skipped, deferred, exited) as lines "reason n"; a dash when empty (no reason occurred). */
function reasons(base: string, bag: Record<string, number>): string {
  const entries = Object.entries(bag);
  if (entries.length === 0) return '<td class="num">–</td>';
  return `<td class="num reasons">${entries.map(([k, n]) => `<div>${esc(k)} ${fig('span', `${base}/${k}`, n)}</div>`).join('')}</td>`;
}

const STEP_COLUMNS = ['sent', 'delivered', 'bounced', 'complained', 'unknown', 'opened', 'clicked', 'machineOpened', 'machineClicked', 'unsubscribed'] as const satisfies readonly (keyof StepCounts)[];
const COLUMN_TITLES: Record<(typeof STEP_COLUMNS)[number], string> = {
  sent: 'Sent', delivered: 'Delivered', bounced: 'Bounced', complained: 'Complaints', unknown: 'Unknown',
  opened: 'Opened', clicked: 'Clicked', machineOpened: 'Machine opens', machineClicked: 'Machine clicks', unsubscribed: 'Unsub.',
};

function versionSection(v: ReportVersion, vi: number): string {
  const base = ptr('versions', vi);
  const ended = (['completed', 'exited', 'converted', 'holdout'] as const).map((k) => `<span>${k} ${fig('span', `${base}/ended/${k}`, v.ended[k])}</span>`).join(' · ');
  const exitReasons = Object.entries(v.exited).map(([k, n]) => `<span>${esc(k)} ${fig('span', `${base}/exited/${k}`, n)}</span>`).join(' · ');
  const rows = v.steps.map((s, si) => {
    const sb = `${base}/steps/${si}/counts`;
    return `<tr data-step="${esc(s.stepId)}"><td><code>${esc(s.stepId)}</code></td><td>${esc(s.kind)}${s.template ? ` <span class="note">${esc(s.template)}</span>` : ''}</td>
${STEP_COLUMNS.map((c) => fig('td', `${sb}/${c}`, s.counts[c])).join('')}
${reasons(`${sb}/skipped`, s.counts.skipped)}${reasons(`${sb}/deferred`, s.counts.deferred)}${reasons(`${sb}/exited`, s.counts.exited)}</tr>`;
  }).join('\n');
  return `<h3>Version ${fig('span', `${base}/version`, v.version)}${v.live ? ' <span class="state live">live</span>' : ''}</h3>
<p class="meta"><span>entered ${fig('span', `${base}/entered`, v.entered)}</span><span>converted ${fig('span', `${base}/converted`, v.converted)} (${fig('span', `${base}/conversionRate`, v.conversionRate, 'pct')})</span></p>
<p class="meta"><span>ended: ${ended}</span>${exitReasons ? `<span>exited by reason: ${exitReasons}</span>` : ''}</p>
<div class="chart"><canvas id="steps-chart-${vi}" role="img" aria-label="Sends, opens and clicks by step of version ${v.version}"></canvas></div>
<div class="scroll"><table class="steps" data-version="${v.version}"><thead><tr><th>Step</th><th>Kind</th>${STEP_COLUMNS.map((c) => `<th class="num">${COLUMN_TITLES[c]}</th>`).join('')}<th class="num">Skipped</th><th class="num">Deferred</th><th class="num">Exited here</th></tr></thead><tbody>
${rows}
</tbody></table></div>`;
}

function experimentsSection(r: JourneyReport): string {
  if (r.experiments.length === 0) return '<p class="note">This journey has no split step in the versions reported.</p>';
  return r.experiments.map((e, ei) => {
    const base = ptr('experiments', ei);
    const rows = e.variants.map((v, vi) => {
      const b = `${base}/variants/${vi}`;
      const lift = v.lift === null
        ? `${fig('td', `${b}/lift`, null, 'pp')}<td class="num">–</td><td class="num">–</td><td class="num">–</td>`
        : `${fig('td', `${b}/lift/absolute`, v.lift.absolute, 'pp')}${fig('td', `${b}/lift/relative`, v.lift.relative, 'pct')}<td class="num interval">${fig('span', `${b}/lift/interval/0`, v.lift.interval[0], 'pp')} … ${fig('span', `${b}/lift/interval/1`, v.lift.interval[1], 'pp')} <span class="note">(${fig('span', `${b}/lift/confidence`, v.lift.confidence, 'pct')})</span></td>${fig('td', `${b}/lift/pValue`, v.lift.pValue, 'p')}`;
      return `<tr data-variant="${esc(v.name)}"><td>${esc(v.name)}${v.holdout ? ' <span class="state paused">holdout</span>' : ''}</td>${fig('td', `${b}/entered`, v.entered)}${fig('td', `${b}/sent`, v.sent)}${fig('td', `${b}/clicked`, v.clicked)}${fig('td', `${b}/converted`, v.converted)}${fig('td', `${b}/conversionRate`, v.conversionRate, 'pct')}${lift}</tr>`;
    }).join('\n');
    return `<h3>Split <code>${esc(e.stepId)}</code> of version ${fig('span', `${base}/version`, e.version)}</h3>
<div class="chart small"><canvas id="experiment-chart-${ei}" role="img" aria-label="Conversion rate by variant of ${esc(e.stepId)}"></canvas></div>
<table class="experiment" data-step="${esc(e.stepId)}"><thead><tr><th>Variant</th><th class="num">Entered</th><th class="num">Sent</th><th class="num">Clicked</th><th class="num">Converted</th><th class="num">Conversion</th><th class="num">Lift vs holdout</th><th class="num">Relative</th><th class="num">Interval</th><th class="num">p-value</th></tr></thead><tbody>
${rows}
</tbody></table>`;
  }).join('\n');
}

const DAILY_COLUMNS = ['entered', 'sent', 'opened', 'clicked', 'converted', 'unsubscribed', 'bounced'] as const;

/** Chart specifications for dashboard.js (see its header): the same numbers as the tables. */
export function reportCharts(r: JourneyReport) {
  const t = r.totals;
  const charts: { canvas: string; type: 'bar' | 'line'; title?: string; labels: string[]; datasets: { label: string; data: number[] }[]; horizontal?: boolean }[] = [
    {
      canvas: 'funnel-chart', type: 'bar', horizontal: true, title: 'Funnel',
      labels: ['Entered', 'Emails sent', 'Opened', 'Clicked', 'Converted'],
      datasets: [{ label: `${r.from} to ${r.to}`, data: [t.entered, t.sent, t.opened, t.clicked, t.converted] }],
    },
    {
      canvas: 'daily-chart', type: 'line', title: 'Daily',
      labels: r.daily.map((d) => d.day),
      datasets: (['sent', 'entered', 'opened', 'clicked', 'converted'] as const).map((k) => ({ label: k, data: r.daily.map((d) => d[k]) })),
    },
  ];
  r.versions.forEach((v, vi) => {
    const sends = v.steps.filter((s) => s.kind === 'send');
    charts.push({
      canvas: `steps-chart-${vi}`, type: 'bar', title: `Sends by step, version ${v.version}`,
      labels: sends.map((s) => s.stepId),
      datasets: (['sent', 'opened', 'clicked', 'unsubscribed', 'bounced'] as const).map((k) => ({ label: k, data: sends.map((s) => s.counts[k]) })),
    });
  });
  r.experiments.forEach((e, ei) => {
    charts.push({
      canvas: `experiment-chart-${ei}`, type: 'bar', title: 'Conversion rate (%) by variant',
      labels: e.variants.map((v) => v.name),
      datasets: [{ label: 'conversion rate (%)', data: e.variants.map((v) => Math.round(v.conversionRate * 1000) / 10) }],
    });
  });
  return { charts };
}

/** The report section of a journey's page. `since` is the period's form value (e.g. "30d"); `version` the one version shown, if chosen. */
export function reportSection(r: JourneyReport, since: string, version?: number): { html: string; chartData: unknown } {
  const t = r.totals;
  const card = (label: string, pointer: string, value: number, format: FigureFormat = 'count') => `<div class="card"><div class="label">${esc(label)}</div>${fig('div', pointer, value, format, 'value')}</div>`;
  const periods = ['7d', '30d', '90d', '400d'];
  const html = `<form class="period" method="get"><label for="since">Period</label> <select id="since" name="since">${periods.map((p) => `<option value="${p}"${p === since ? ' selected' : ''}>last ${p.replace('d', ' days')}</option>`).join('')}</select>${version === undefined ? '' : `<input type="hidden" name="version" value="${version}">`} <button type="submit">Show</button> <span class="note">${esc(r.from)} to ${esc(r.to)} (UTC days) · generated ${esc(r.generatedAt.replace('T', ' ').slice(0, 19))} UTC</span></form>
<div class="cards">
${card('Entered', '/totals/entered', t.entered)}${card('Converted', '/totals/converted', t.converted)}${card('Conversion rate', '/totals/conversionRate', t.conversionRate, 'pct')}${card('Emails sent', '/totals/sent', t.sent)}${card('Opened', '/totals/opened', t.opened)}${card('Clicked', '/totals/clicked', t.clicked)}${card('Unsubscribed', '/totals/unsubscribed', t.unsubscribed)}${card('Bounced', '/totals/bounced', t.bounced)}
</div>
<p class="meta"><span>ended: ${(['completed', 'exited', 'converted', 'holdout'] as const).map((k) => `${k} ${fig('span', `/totals/ended/${k}`, t.ended[k])}`).join(' · ')}</span>${Object.keys(t.exited).length ? `<span>exited by reason: ${Object.entries(t.exited).map(([k, n]) => `${esc(k)} ${fig('span', `/totals/exited/${k}`, n)}`).join(' · ')}</span>` : ''}</p>
<h2>Funnel</h2>
<div class="chart"><canvas id="funnel-chart" role="img" aria-label="Entered, sent, opened, clicked, converted"></canvas></div>
<h2>Daily</h2>
<div class="chart"><canvas id="daily-chart" role="img" aria-label="Daily sends, entries, opens, clicks and conversions"></canvas></div>
<details class="daily"><summary>Daily figures</summary>
<table class="daily"><thead><tr><th>Day (UTC)</th>${DAILY_COLUMNS.map((c) => `<th class="num">${c}</th>`).join('')}</tr></thead><tbody>
${r.daily.map((d, di) => `<tr data-day="${esc(d.day)}"><td>${esc(d.day)}</td>${DAILY_COLUMNS.map((c) => fig('td', ptr('daily', di, c), d[c])).join('')}</tr>`).join('\n')}
</tbody></table></details>
<h2>Steps</h2>
${r.versions.map(versionSection).join('\n')}
<h2>Experiments</h2>
${experimentsSection(r)}`;
  return { html, chartData: reportCharts(r) };
}

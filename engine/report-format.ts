/**
 * The journey report as text for `sojourn report`: a table for people, CSV (one row per version and step,
 * then one per variant) for spreadsheets. JSON is the API's shape as is.
 */
import type { JourneyReport, StepCounts } from './journey-report';

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
const reasons = (m: Record<string, number>) => Object.entries(m).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');

/** Columns of a step row, in order (table and CSV). */
const STEP_COLUMNS: [string, (c: StepCounts) => string | number][] = [
  ['sent', (c) => c.sent], ['delivered', (c) => c.delivered], ['bounced', (c) => c.bounced], ['opened', (c) => c.opened],
  ['clicked', (c) => c.clicked], ['machine opens', (c) => c.machineOpened], ['machine clicks', (c) => c.machineClicked],
  ['unsubscribed', (c) => c.unsubscribed], ['skipped', (c) => reasons(c.skipped)], ['deferred', (c) => reasons(c.deferred)], ['exited', (c) => reasons(c.exited)],
];

function table(rows: (string | number)[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  return rows.map((r) => r.map((v, i) => (typeof v === 'number' ? String(v).padStart(widths[i]) : String(v).padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

export function formatReportTable(r: JourneyReport): string {
  const out: string[] = [];
  const t = r.totals;
  out.push(`${r.journeyId} (${r.name}), live version ${r.liveVersion}${r.paused ? ', paused' : ''}, ${r.from} to ${r.to} (UTC)`);
  out.push(`entered ${t.entered}, converted ${t.converted} (${pct(t.conversionRate)}), sent ${t.sent}, clicked ${t.clicked}, unsubscribed ${t.unsubscribed}, bounced ${t.bounced}`);
  out.push(`ended: completed ${t.ended.completed}, exited ${t.ended.exited}${reasons(t.exited) ? ` (${reasons(t.exited)})` : ''}, converted ${t.ended.converted}, holdout ${t.ended.holdout}`);
  for (const v of r.versions) {
    out.push('', `version ${v.version}${v.live ? ' (live)' : ''}: entered ${v.entered}, converted ${v.converted} (${pct(v.conversionRate)})`);
    const active = v.steps.filter((s) => s.kind === 'send' || STEP_COLUMNS.some(([, f]) => f(s.counts) !== 0 && f(s.counts) !== ''));
    if (active.length) out.push(table([['step', ...STEP_COLUMNS.map(([h]) => h)], ...active.map((s) => [s.stepId, ...STEP_COLUMNS.map(([, f]) => f(s.counts))])]));
  }
  for (const e of r.experiments) {
    out.push('', `experiment ${e.stepId} (version ${e.version})`);
    out.push(table([['variant', 'entered', 'converted', 'rate', 'lift', '95% interval', 'p-value'], ...e.variants.map((x) => [
      `${x.name}${x.holdout ? ' (holdout)' : ''}`, x.entered, x.converted, pct(x.conversionRate),
      x.lift ? `${x.lift.absolute >= 0 ? '+' : ''}${(x.lift.absolute * 100).toFixed(1)} pts` : '',
      x.lift ? `${(x.lift.interval[0] * 100).toFixed(1)} to ${(x.lift.interval[1] * 100).toFixed(1)} pts` : '',
      x.lift?.pValue != null ? x.lift.pValue.toFixed(4) : '',
    ])]));
  }
  for (const s of r.surveys ?? []) {
    out.push('', `survey ${s.surveyId} (${s.scale}, steps ${s.stepIds.join(', ')}): ${s.answers} answers, ${s.scale === 'csat' ? `CSAT ${s.csat === null ? '-' : pct(s.csat)}` : `NPS ${s.nps ?? '-'}`}, average ${s.average === null ? '-' : s.average.toFixed(2)}`);
    out.push(`  scores: ${Object.entries(s.scores).sort(([a], [b]) => Number(a) - Number(b)).map(([k, n]) => `${k}: ${n}`).join(', ')}`);
  }
  return out.join('\n');
}

const csvCell = (v: string | number | null) => {
  const s = v === null ? '' : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function formatReportCsv(r: JourneyReport): string {
  const header = ['journey', 'version', 'row', 'step_or_variant', 'kind', 'entered', 'converted', 'sent', 'delivered', 'bounced', 'opened', 'clicked', 'machine_opened', 'machine_clicked', 'unsubscribed', 'skipped', 'deferred', 'exited', 'lift', 'lift_low', 'lift_high', 'p_value'];
  const rows: (string | number | null)[][] = [header];
  for (const v of r.versions) {
    rows.push([r.journeyId, v.version, 'version', '', '', v.entered, v.converted, '', '', '', '', '', '', '', '', '', '', reasons(v.exited), '', '', '', '']);
    for (const s of v.steps) {
      const c = s.counts;
      rows.push([r.journeyId, v.version, 'step', s.stepId, s.kind, '', '', c.sent, c.delivered, c.bounced, c.opened, c.clicked, c.machineOpened, c.machineClicked, c.unsubscribed, reasons(c.skipped), reasons(c.deferred), reasons(c.exited), '', '', '', '']);
    }
  }
  for (const e of r.experiments) {
    for (const x of e.variants) {
      rows.push([r.journeyId, e.version, 'variant', `${e.stepId}:${x.name}`, x.holdout ? 'holdout' : 'variant', x.entered, x.converted, x.sent, '', '', '', x.clicked, '', '', '', '', '', '',
        x.lift?.absolute ?? '', x.lift?.interval[0] ?? '', x.lift?.interval[1] ?? '', x.lift?.pValue ?? '']);
    }
  }
  for (const s of r.surveys ?? []) {
    // kind carries the score ("csat 75.0%", "nps 20"), entered the number of answers.
    const score = s.scale === 'csat' ? `csat ${s.csat === null ? '-' : pct(s.csat)}` : `nps ${s.nps ?? '-'}`;
    rows.push([r.journeyId, '', 'survey', s.surveyId, score, s.answers, '', '', '', '', '', '', '', '', '', '', '', '', '', '', '', '']);
  }
  return rows.map((row) => row.map(csvCell).join(',')).join('\n');
}

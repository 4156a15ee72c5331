/**
 * The import's problem report (`--errors report.csv`): every rejected row and every row imported with
 * warnings, as the original cells under the original header plus three columns the importer itself
 * ignores (`sojourn_row`, `sojourn_status`, `sojourn_problems`). So the report can be opened, fixed
 * and imported again as it is: rows that were rejected are created, rows that lost a field get it
 * (merged by address, no duplicates).
 *
 * Cells that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) are written
 * with a leading apostrophe (OWASP's CSV-injection advice); the importer strips exactly that escape
 * when it reads a cell, so `'+86 138 0013 8000` goes back in as `+86 138 0013 8000`.
 */
import type { Writable } from 'node:stream';

export const REPORT_COLUMNS = ['sojourn_row', 'sojourn_status', 'sojourn_problems'] as const;

const FORMULA_START = /^[=+\-@\t\r]/;

/** A cell as text a spreadsheet shows but does not evaluate. */
export function escapeFormula(v: string): string {
  return FORMULA_START.test(v) ? `'${v}` : v;
}

/** Undoes escapeFormula (only an apostrophe followed by a formula character is an escape). */
export function unescapeFormula(v: string): string {
  return v.charCodeAt(0) === 39 && FORMULA_START.test(v.slice(1)) ? v.slice(1) : v;
}

/** One CSV cell: formula-escaped, quoted when it holds a comma, quote or line break. */
export function csvCell(v: string | number): string {
  const s = escapeFormula(String(v));
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export interface ReportProblem { column: string; code: string; message: string }

export interface ReportRow {
  row: number;
  status: 'rejected' | 'imported_with_warnings';
  /** The row's cells as read; a line that is not valid CSV is given as its raw text in the first column. */
  cells: string[];
  problems: ReportProblem[];
}

/** Writes the report to a stream; `header` is the file's own header. */
export function createReportWriter(out: Writable, header: string[], opts: { append?: boolean } = {}) {
  if (!opts.append) out.write(`${[...header, ...REPORT_COLUMNS].map(csvCell).join(',')}\n`);
  return {
    write(r: ReportRow): boolean {
      const cells = header.map((_, i) => r.cells[i] ?? '');
      const problems = r.problems.map((p) => `${p.column ? `${p.column}: ` : ''}${p.code} ${p.message}`).join(' | ');
      return out.write(`${[...cells, r.row, r.status, problems].map(csvCell).join(',')}\n`);
    },
  };
}

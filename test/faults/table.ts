/**
 * The fault table: one row per fault, counted from what the SMTP relay received, what the send
 * ledger recorded and what Temporal ran. Printed by the suite; `npm run faults` (full lengths) also
 * writes it into README.md between the `faults:begin` / `faults:end` markers.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface FaultRow {
  fault: string;
  /** Emails the runs should hand to the relay (one per contact and template). */
  expected: number;
  /** Distinct expected emails the relay holds. */
  received: number;
  /** Extra copies beyond the first of an email. */
  duplicated: number;
  /** Refused permanently (5xx) and recorded as a bounce with the reason: accounted, not lost. */
  bounced: number;
  /** Sends closed as `unknown` (crash between the SMTP hand-off and the ledger update), not received. */
  unknown: number;
  /** expected - received - bounced - unknown. */
  lost: number;
  eventsAccepted: number;
  eventsDispatched: number;
  eventsLost: number;
  runsFailed: number;
  /** Seconds from the end of the fault until the last expected email arrived. */
  recoverySeconds: number;
  notes: string;
}

export function formatTable(rows: FaultRow[], title: string): string {
  const head = '| fault | emails expected | received | duplicated | lost | bounced (5xx) | unknown (crash window) | events accepted | dispatched | events lost | runs failed | recovered after | notes |';
  const sep = '|' + '---|'.repeat(13);
  const lines = rows.map((r) => `| ${r.fault} | ${r.expected} | ${r.received} | ${r.duplicated} | ${r.lost} | ${r.bounced} | ${r.unknown} | ${r.eventsAccepted} | ${r.eventsDispatched} | ${r.eventsLost} | ${r.runsFailed} | ${r.recoverySeconds.toFixed(0)} s | ${r.notes} |`);
  return [title, '', head, sep, ...lines, ''].join('\n');
}

/** Replaces the table between the README markers (kept when the markers are missing). */
export function writeReadmeTable(markdown: string): boolean {
  const readme = path.resolve(__dirname, '..', '..', 'README.md');
  const text = fs.readFileSync(readme, 'utf8');
  const begin = '<!-- faults:begin -->';
  const end = '<!-- faults:end -->';
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) return false;
  fs.writeFileSync(readme, `${text.slice(0, a + begin.length)}\n${markdown}\n${text.slice(b)}`);
  return true;
}

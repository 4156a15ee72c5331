/**
 * Diagnostics: what `validate` prints. Every problem has a stable code (tests and tools key on it),
 * a message a marketer can act on, and a 1-based source range. Stages return diagnostics as data.
 */

export type Severity = 'error' | 'warning';

export interface Position { line: number; col: number }
export interface Range { start: Position; end: Position }

export interface Diagnostic {
  code: DiagnosticCode;
  severity: Severity;
  message: string;
  file: string;
  range: Range;
}

/** Every code the DSL can report, with a one-line explanation (docs/dsl.md lists them). */
export const DIAGNOSTIC_CODES = {
  E_YAML_SYNTAX: 'The file is not valid YAML.',
  E_YAML_TOO_LARGE: 'The file is over 1,000,000 characters or nests deeper than 64 levels.',
  E_YAML_ALIAS: 'The file uses YAML anchors or aliases (&name / *name), which journey and rules files do not support.',
  E_FILE_KIND: 'The file is neither a journey (has `journey:`) nor a rules file (has `segments:` or `rule_sets:`).',
  E_UNKNOWN_KEY: 'A key that this place does not accept (with a "did you mean" suggestion).',
  E_MISSING_KEY: 'A required key is missing.',
  E_WRONG_TYPE: 'A value has the wrong type (text where a list is expected, ...).',
  E_BAD_ID: 'A journey, step, segment or rule set id that is not lower_snake_case.',
  E_BAD_DURATION: 'A duration that is not like 30m, 36h, 2d or 1w.',
  E_BAD_LOCAL_TIME: 'A time of day that is not HH:MM (24h).',
  E_BAD_TIMEZONE: 'Not an IANA time zone such as Europe/Paris.',
  E_BAD_CRON: 'Not a valid cron expression.',
  E_BAD_TRIGGER: 'The trigger has none or more than one of event, schedule, date, segment.',
  E_BAD_DATE_FIELD: 'A date trigger or wait on a field that is not a date of the contact (birthday, a timestamp field, or a custom attribute declared `date` in a rules file).',
  E_UNKNOWN_HOLIDAY: 'A date trigger on a holiday Sojourn does not know (see docs/dsl.md for the list).',
  E_BAD_ENTRY: 'The entry policy is not one of once, every <duration>, restart.',
  E_GOAL_NO_EVENT: 'A goal without the event that reaches it.',
  E_BAD_VALUE: 'A value outside the allowed set (email status, consent status, ...).',
  E_EMPTY_STEPS: 'A journey or branch with no steps where steps are required.',
  E_UNKNOWN_STEP_KIND: 'A step that is none of send, wait, wait_for, if, split, update, classify, webhook, task, exit.',
  E_AMBIGUOUS_STEP: 'A step that names two kinds at once (e.g. send and wait).',
  E_DUPLICATE_STEP_ID: 'Two steps with the same id.',
  E_UNREACHABLE_STEP: 'A step that can never run (it follows an exit).',
  E_UNKNOWN_TEMPLATE: 'A send of a template that is not in templates/.',
  E_TEMPLATE_VARIABLE: 'A template sent by a journey uses a variable that journey cannot provide (undeclared trigger data, an unknown contact field, a link that does not exist, ...).',
  E_TEMPLATE_NO_TOPIC: 'A send of a marketing template whose front matter declares no preference-centre `topic:`.',
  E_UNKNOWN_SEGMENT: 'A reference to a segment that no rules file defines.',
  E_UNKNOWN_RULE_SET: 'A classify step with a rule set that no rules file defines.',
  E_WAIT_FOR_NO_TIMEOUT: 'A wait_for without a timeout would wait forever.',
  E_NO_CONSENT_CHECK: 'A marketing email could be sent to a contact without email consent.',
  E_SPLIT_WEIGHTS: 'Split weights (plus holdout) do not add up to 100.',
  E_UNKNOWN_FIELD: 'An update of a contact field that does not exist or cannot be set.',
  E_UNKNOWN_PARAM: 'An expression uses journey.params.x, but the journey has no param x.',
  E_DUPLICATE_NAME: 'A segment, rule set or journey defined twice.',
  E_CEL_SYNTAX: 'The expression has a syntax error.',
  E_CEL_UNKNOWN_FIELD: 'The expression uses a field that does not exist.',
  E_CEL_TYPE: 'The expression mixes types (text compared with a number, ...).',
  E_CEL_UNKNOWN_FUNCTION: 'The expression calls a function that does not exist for those arguments.',
  E_CEL_NOT_BOOL: 'A condition that is not true/false.',
  E_CEL_VARIABLE: 'The expression uses a variable that is not available here (event in a segment, ...).',
  E_CEL_TOO_COMPLEX: 'The expression is over the size limits (4,096 characters, 1,000 operators, values and fields).',
  E_CEL_REGEX: 'A matches() pattern that RE2 does not accept (backreferences, lookaround) or longer than 1,000 characters.',
  E_UNDECLARED_EVENT: 'A trigger, wait_for or goal on an event nothing emits: neither in the vocabulary (docs/events.md) nor in the journey\'s custom_events.',
  E_WEBHOOK_URL: 'A webhook url that is not an http(s) URL, or that carries a user name or password.',
  W_CUSTOM_EVENT_KNOWN: 'A custom_events entry that Sojourn already emits.',
  W_NO_PUSHDOWN: 'A segment that cannot become a database filter: scans evaluate it contact by contact.',
  W_EMPTY_BRANCH: 'A then/else/branch/on_timeout with no steps.',
  W_TRANSACTIONAL_QUIET: 'A journey that only sends transactional email has a frequency cap, which only counts marketing email.',
  W_NO_EXIT_WHEN: 'A marketing journey without exit_when keeps running after an unsubscribe.',
  W_WEBHOOK_PRIVATE_HOST: 'A webhook url on a private, loopback or local address: called in development mode only.',
  W_TASK_UNNOTIFIED: 'A task step with email: false and no webhook: nobody is told about the task.',
  W_WEBHOOK_PLAIN_HTTP: 'A webhook url over plain http://: called in development mode only.',
} as const;

export type DiagnosticCode = keyof typeof DIAGNOSTIC_CODES;

/** Maps offsets in a text to 1-based line/column. */
export class SourceMap {
  private readonly lineStarts: number[] = [0];
  constructor(readonly text: string) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
  }
  position(offset: number): Position {
    const o = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid] <= o) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: o - this.lineStarts[lo] + 1 };
  }
  range(start: number, end: number): Range {
    return { start: this.position(start), end: this.position(Math.max(start, end)) };
  }
  lineText(line: number): string {
    const s = this.lineStarts[line - 1] ?? this.text.length;
    const e = this.lineStarts[line] ?? this.text.length + 1;
    return this.text.slice(s, e - 1).replace(/\r$/, '');
  }
}

/** Collects diagnostics for one file. */
export class DiagnosticSink {
  readonly list: Diagnostic[] = [];
  constructor(readonly file: string, readonly map: SourceMap) {}
  error(code: DiagnosticCode, message: string, span: [number, number]): void {
    this.push(code, 'error', message, span);
  }
  warn(code: DiagnosticCode, message: string, span: [number, number]): void {
    this.push(code, 'warning', message, span);
  }
  push(code: DiagnosticCode, severity: Severity, message: string, span: [number, number]): void {
    this.list.push({ code, severity, message, file: this.file, range: this.map.range(span[0], span[1]) });
  }
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Sorts by file, then position, then code, so output is stable. */
export function sortDiagnostics(diagnostics: Diagnostic[]): Diagnostic[] {
  return diagnostics.sort((a, b) =>
    a.file.localeCompare(b.file) || a.range.start.line - b.range.start.line ||
    a.range.start.col - b.range.start.col || a.code.localeCompare(b.code));
}

/**
 * `file:line:col: error E_CODE: message`, then the source line and a caret underline.
 * `source` is the file text (omit it to print only the first line).
 */
export function formatDiagnostic(d: Diagnostic, source?: string): string {
  const head = `${d.file}:${d.range.start.line}:${d.range.start.col}: ${d.severity} ${d.code}: ${d.message}`;
  if (source === undefined) return head;
  const map = new SourceMap(source);
  const text = map.lineText(d.range.start.line);
  const gutter = String(d.range.start.line);
  const pad = ' '.repeat(gutter.length);
  const startCol = d.range.start.col;
  const endCol = d.range.end.line === d.range.start.line ? Math.max(d.range.end.col, startCol + 1) : text.length + 1;
  const width = Math.max(1, Math.min(endCol, text.length + 1) - startCol);
  const underline = ' '.repeat(Math.max(0, startCol - 1)) + '^' + '~'.repeat(Math.max(0, width - 1));
  return `${head}\n ${gutter} | ${text}\n ${pad} | ${underline}`;
}

/** Closest candidate by edit distance, for "did you mean". */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestScore) { bestScore = d; best = c; }
  }
  return best !== undefined && bestScore <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

export function suggestion(word: string, candidates: readonly string[]): string {
  const m = didYouMean(word, candidates);
  return m ? ` Did you mean "${m}"?` : '';
}

function editDistance(a: string, b: string): number {
  const dp: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0];
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j];
      dp[j] = Math.min(dp[j] + 1, dp[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length];
}

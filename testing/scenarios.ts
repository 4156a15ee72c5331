/**
 * Journey scenario files (`journeys/<id>.scenarios.yaml`): how a marketer tests a journey. A person,
 * things that happen to them over simulated time, and what they should receive. Parsed here into
 * typed actions; `testing/scenario-runner.ts` plays them under Temporal's time-skipping server.
 *
 *   journey: welcome
 *   scenarios:
 *     - name: a subscriber who never opens gets the tips email two days later
 *       contact: { email: ana@example.com, firstName: Ana, timezone: Asia/Shanghai, consent: { email: subscribed } }
 *       do:
 *         - event: contact.created
 *         - expect_email: { template: welcome, subject: Ana }
 *         - advance: 2d
 *         - expect_email: { template: welcome_tips }
 *
 * A scenario starts at `start_time` (UTC, default 10:00) on the next day of simulated time. Contact
 * fields take relative dates: lastActivityAt: -120d, emailVerifiedAt: -200d, birthday: +3d (the day
 * three days after the start).
 *
 * Actions: event, advance, advance_to (a holiday), run_scan, open, click, confirm, verify, unsubscribe, preferences,
 * answer_survey, expect_email, expect_no_email, expect_contact, expect_run, expect_owner_email, expect_task, close_task.
 * A scenario may give the contact an owner (`owner: { name, email, crmId? }`), created through the API. The person's actions (open, click, confirm, verify,
 * unsubscribe, preferences) use the links of the email they received, through the real public endpoints;
 * `event` goes through the real API (POST /v1/events). Errors name file:line:col.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type YAMLMap } from 'yaml';
import { parseDayOffset, parseDuration } from '../rules/duration';
import { HOLIDAY_NAMES, isHolidayName, type HolidayName } from '../rules/holiday-names';

export interface Located { line: number; col: number }

export type ScenarioAction = Located & (
  | { kind: 'event'; name: string; data: Record<string, unknown> }
  | { kind: 'advance'; ms: number; text: string }
  /** Skip to the next `at` (UTC) on a holiday's date moved by `offsetDays` (holidays move each year, durations can't reach them). */
  | { kind: 'advance_to'; holiday: HolidayName; offsetDays: number; at: string }
  | { kind: 'run_scan' }
  | { kind: 'open' | 'click'; template: string; by: Actor }
  /** A button page behind the email's link (double opt-in, verification): open it, press the button. */
  | { kind: 'confirm' | 'verify'; template?: string }
  /** The one-click unsubscribe of the email's List-Unsubscribe header (RFC 8058), as a mail client does it. */
  | { kind: 'unsubscribe'; template?: string }
  /** The preference centre behind the email's link: keep these topics, optionally pause, or unsubscribe from all. */
  | { kind: 'preferences'; template?: string; keep: string[]; pauseDays?: 30 | 90; unsubscribeAll: boolean }
  /** `at`: the local time ("HH:MM", the contact's time zone) the email was sent at. */
  | { kind: 'expect_email'; template: string; subject?: string; at?: string }
  /** The survey page behind the email's rating link for `score`: open it (the score is preselected), add the comment, send. */
  | { kind: 'answer_survey'; template?: string; score: number; comment?: string }
  /** An email to the scenario's owner (a task notification) arrived in the inbox. */
  | { kind: 'expect_owner_email'; template?: string; subject?: string }
  /** A task about the contact, through GET /v1/tasks (title contains, status, assigned to the scenario's owner). */
  | { kind: 'expect_task'; title?: string; status?: 'open' | 'done' }
  /** The owner closes the contact's open task through POST /v1/tasks/{id}/close. */
  | { kind: 'close_task'; resolution?: string }
  | { kind: 'expect_no_email'; template?: string }
  | { kind: 'expect_contact'; fields: Record<string, unknown> }
  /** `key`: which run of a keyed journey (`entry: { key }`), e.g. the order id; default the newest. */
  | { kind: 'expect_run'; ended?: string; reason?: string; waitingFor?: string; key?: string }
);

/**
 * Who opens or clicks: a person (a browser, at least 15 s after the email arrived), a link scanner
 * (a HEAD then a GET with a security scanner's user agent, at once) or a privacy proxy (Apple Mail
 * Privacy Protection fetching the pixel). The endpoint decides what is a machine, not the harness.
 */
export const ACTORS = ['person', 'scanner', 'proxy'] as const;
export type Actor = (typeof ACTORS)[number];

export interface Scenario extends Located {
  name: string;
  /** Contact fields as the contacts API takes them; durations like "-120d" in date fields are relative to the start. */
  contact: Record<string, unknown>;
  /** UTC time of day the scenario starts at ("HH:MM"; default 10:00), so quiet hours are deterministic. */
  startTime: string;
  /** The contact's owner (a user), created through PUT /v1/owners/{id} before the contact. */
  owner?: { name: string; email: string; crmId?: string };
  actions: ScenarioAction[];
}

export interface ScenarioFile {
  file: string;
  journey: string;
  scenarios: Scenario[];
}

export class ScenarioFormatError extends Error {
  constructor(readonly file: string, readonly at: Located, message: string) {
    super(`${file}:${at.line}:${at.col}: ${message}`);
  }
}

const ACTIONS = ['event', 'advance', 'advance_to', 'run_scan', 'open', 'click', 'confirm', 'verify', 'unsubscribe', 'preferences', 'answer_survey', 'expect_email', 'expect_no_email', 'expect_contact', 'expect_run', 'expect_owner_email', 'expect_task', 'close_task'] as const;
export const RUN_OUTCOMES = ['completed', 'exited', 'converted', 'holdout', 'running'] as const;

export function parseScenarioFile(text: string, file: string): ScenarioFile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const at = (n: Node | null | undefined): Located => {
    const offset = (n as { range?: [number, number] } | null)?.range?.[0] ?? 0;
    const p = lc.linePos(offset);
    return { line: p.line, col: p.col };
  };
  const fail = (n: Node | null | undefined, msg: string): never => {
    throw new ScenarioFormatError(file, at(n), msg);
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    const p = lc.linePos(e.pos[0]);
    throw new ScenarioFormatError(file, { line: p.line, col: p.col }, `not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const root = doc.contents;
  if (!isMap(root)) fail(root, 'a scenario file is a map with "journey" and "scenarios"');
  const rootMap = root as YAMLMap;
  const get = (m: YAMLMap, key: string): Node | undefined => m.items.find((p) => isScalar(p.key) && p.key.value === key)?.value as Node | undefined;
  const keysOf = (m: YAMLMap) => m.items.map((p) => ({ key: String((p.key as { value?: unknown }).value), node: p.key as Node }));

  for (const k of keysOf(rootMap)) if (!['journey', 'scenarios'].includes(k.key)) fail(k.node, `unknown key "${k.key}" (expected journey, scenarios)`);
  const journeyNode = get(rootMap, 'journey');
  if (!isScalar(journeyNode) || typeof journeyNode.value !== 'string') return fail(journeyNode ?? root, '"journey" must name the journey under test');
  const list = get(rootMap, 'scenarios');
  if (!isSeq(list) || list.items.length === 0) return fail(list ?? root, '"scenarios" must be a non-empty list');

  const scenarios: Scenario[] = [];
  for (const item of list.items as Node[]) {
    if (!isMap(item)) fail(item, 'each scenario is a map with name, contact and do');
    const m = item as YAMLMap;
    for (const k of keysOf(m)) if (!['name', 'start_time', 'contact', 'owner', 'do'].includes(k.key)) fail(k.node, `unknown key "${k.key}" in a scenario (expected name, start_time, contact, owner, do)`);
    const ownerNode = get(m, 'owner');
    let owner: Scenario['owner'];
    if (ownerNode !== undefined) {
      const o = isMap(ownerNode) ? ((ownerNode as YAMLMap).toJSON() as Record<string, unknown>) : null;
      if (!o || typeof o.name !== 'string' || typeof o.email !== 'string' || (o.crmId !== undefined && typeof o.crmId !== 'string')) fail(ownerNode, 'owner is { name, email, crmId? }');
      for (const k of Object.keys(o!)) if (!['name', 'email', 'crmId'].includes(k)) fail(ownerNode, `unknown key "${k}" in owner (name, email, crmId)`);
      owner = { name: o!.name as string, email: o!.email as string, ...(o!.crmId ? { crmId: o!.crmId as string } : {}) };
    }
    const start = get(m, 'start_time');
    if (start !== undefined && !(isScalar(start) && /^([01]\d|2[0-3]):[0-5]\d$/.test(String(start.value)))) fail(start, 'start_time is a UTC time of day like "10:00"');
    const name = get(m, 'name');
    if (!isScalar(name) || typeof name.value !== 'string') fail(name ?? item, 'a scenario needs a "name" sentence');
    const contact = get(m, 'contact');
    if (!isMap(contact)) fail(contact ?? item, 'a scenario needs a "contact" map (at least an email)');
    const contactJson = (contact as YAMLMap).toJSON() as Record<string, unknown>;
    if (typeof contactJson.email !== 'string') fail(contact, 'the scenario contact needs an "email"');
    const steps = get(m, 'do');
    if (!isSeq(steps) || steps.items.length === 0) fail(steps ?? item, 'a scenario needs a non-empty "do" list');
    const actions = (steps as { items: Node[] }).items.map((s) => parseAction(s));
    scenarios.push({
      ...at(item), name: String((name as { value: string }).value), contact: contactJson,
      startTime: start === undefined ? '10:00' : String((start as { value: unknown }).value), actions, ...(owner ? { owner } : {}),
    });
  }
  return { file, journey: journeyNode.value, scenarios };

  function parseAction(n: Node): ScenarioAction {
    if (!isMap(n) || n.items.length !== 1) return fail(n, `each step is one of: ${ACTIONS.join(', ')}`);
    const pair = n.items[0];
    const kind = String((pair.key as { value?: unknown }).value);
    const value = pair.value as Node;
    const loc = at(pair.key as Node);
    const json = (value as { toJSON?: () => unknown })?.toJSON ? (value as { toJSON: () => unknown }).toJSON() : (value as { value?: unknown })?.value;
    const obj = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null);
    const str = (v: unknown, what: string): string => (typeof v === 'string' && v ? v : fail(value, `${what} must be text`));
    switch (kind) {
      case 'event': {
        if (typeof json === 'string') return { ...loc, kind, name: json, data: {} };
        const o = obj(json) ?? fail(value, 'event is a name, or { name, data }');
        return { ...loc, kind, name: str(o.name, 'event name'), data: obj(o.data) ?? {} };
      }
      case 'advance': {
        const text = String(json ?? '');
        const ms = parseDuration(text);
        if (ms === null) fail(value, `"${text}" is not a duration like 30m, 36h, 2d or 1w`);
        return { ...loc, kind, ms: ms as number, text };
      }
      case 'advance_to': {
        const o = obj(json) ?? fail(value, 'advance_to is { holiday, offset?, at? }, like { holiday: chinese_new_year, offset: -1d, at: "00:05" }');
        for (const k of Object.keys(o)) if (!['holiday', 'offset', 'at'].includes(k)) fail(value, `unknown key "${k}" in advance_to (holiday, offset, at)`);
        const holiday = str(o.holiday, 'advance_to holiday');
        if (!isHolidayName(holiday)) fail(value, `"${holiday}" is not a holiday (${HOLIDAY_NAMES.join(', ')})`);
        const offsetDays = o.offset === undefined ? 0 : parseDayOffset(String(o.offset));
        if (offsetDays === null) fail(value, `offset "${String(o.offset)}" is not a number of days like -1d`);
        const when = o.at === undefined ? '00:00' : String(o.at);
        if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(when)) fail(value, 'advance_to at is a UTC time of day like "00:05"');
        return { ...loc, kind, holiday: holiday as HolidayName, offsetDays: offsetDays as number, at: when };
      }
      case 'run_scan':
        return { ...loc, kind };
      case 'open':
      case 'click': {
        if (typeof json === 'string') return { ...loc, kind, template: str(json, `${kind} template`), by: 'person' };
        const o = obj(json) ?? fail(value, `${kind} is a template name, or { template, by: person|scanner|proxy }`);
        for (const k of Object.keys(o)) if (!['template', 'by'].includes(k)) fail(value, `unknown key "${k}" in ${kind} (template, by)`);
        const by = o.by === undefined ? 'person' : String(o.by);
        if (!(ACTORS as readonly string[]).includes(by)) fail(value, `by must be one of ${ACTORS.join(', ')}`);
        return { ...loc, kind, template: str(o.template, `${kind} template`), by: by as Actor };
      }
      case 'confirm':
      case 'verify':
      case 'unsubscribe': {
        // `confirm: double_optin` (the email of that template) or `confirm: {}` / `confirm: true` (the latest email with such a link).
        if (typeof json === 'string') return { ...loc, kind, template: str(json, `${kind} template`) };
        if (json === true || json === null) return { ...loc, kind };
        const o = obj(json) ?? fail(value, `${kind} is a template name, or { template }`);
        for (const k of Object.keys(o)) if (k !== 'template') fail(value, `unknown key "${k}" in ${kind} (template)`);
        return { ...loc, kind, template: o.template === undefined ? undefined : str(o.template, 'template') };
      }
      case 'preferences': {
        const o = obj(json) ?? fail(value, 'preferences is { template?, keep: [topics], pause?: 30 | 90, unsubscribe_all?: true }');
        for (const k of Object.keys(o)) if (!['template', 'keep', 'pause', 'unsubscribe_all'].includes(k)) fail(value, `unknown key "${k}" in preferences (template, keep, pause, unsubscribe_all)`);
        const keep = o.keep === undefined ? [] : Array.isArray(o.keep) && o.keep.every((t) => typeof t === 'string') ? (o.keep as string[]) : fail(value, 'keep is a list of topics, e.g. [news]');
        const pause = o.pause === undefined ? undefined : Number(String(o.pause).replace(/d$/, ''));
        if (pause !== undefined && pause !== 30 && pause !== 90) fail(value, 'pause is 30 or 90 (days), as the preference centre offers');
        return { ...loc, kind, template: o.template === undefined ? undefined : str(o.template, 'template'), keep, pauseDays: pause as 30 | 90 | undefined, unsubscribeAll: o.unsubscribe_all === true };
      }
      case 'answer_survey': {
        const o = obj(json) ?? fail(value, 'answer_survey is { template?, score, comment? }');
        for (const k of Object.keys(o)) if (!['template', 'score', 'comment'].includes(k)) fail(value, `unknown key "${k}" in answer_survey (template, score, comment)`);
        if (typeof o.score !== 'number' || !Number.isInteger(o.score) || o.score < 0 || o.score > 10) fail(value, 'score is a whole number: 1-5 stars or 0-10');
        return { ...loc, kind, score: o.score as number, ...(o.template === undefined ? {} : { template: str(o.template, 'template') }), ...(o.comment === undefined ? {} : { comment: str(o.comment, 'comment') }) };
      }
      case 'expect_owner_email': {
        const o = typeof json === 'string' ? { template: json } : obj(json) ?? {};
        for (const k of Object.keys(o)) if (!['template', 'subject'].includes(k)) fail(value, `unknown key "${k}" in expect_owner_email (template, subject)`);
        return { ...loc, kind, ...(o.template === undefined ? {} : { template: str(o.template, 'template') }), ...(o.subject === undefined ? {} : { subject: str(o.subject, 'subject') }) };
      }
      case 'expect_task': {
        const o = obj(json) ?? {};
        for (const k of Object.keys(o)) if (!['title', 'status'].includes(k)) fail(value, `unknown key "${k}" in expect_task (title, status)`);
        if (o.status !== undefined && o.status !== 'open' && o.status !== 'done') fail(value, 'status is open or done');
        return { ...loc, kind, ...(o.title === undefined ? {} : { title: str(o.title, 'title') }), ...(o.status === undefined ? {} : { status: o.status as 'open' | 'done' }) };
      }
      case 'close_task': {
        const o = obj(json) ?? {};
        for (const k of Object.keys(o)) if (k !== 'resolution') fail(value, `unknown key "${k}" in close_task (resolution)`);
        return { ...loc, kind, ...(o.resolution === undefined ? {} : { resolution: str(o.resolution, 'resolution') }) };
      }
      case 'expect_email': {
        const o = typeof json === 'string' ? { template: json } : obj(json) ?? fail(value, 'expect_email is { template, subject?, at? }');
        for (const k of Object.keys(o)) if (!['template', 'subject', 'at'].includes(k)) fail(value, `unknown key "${k}" in expect_email (template, subject, at)`);
        if (o.at !== undefined && !/^([01]\d|2[0-3]):[0-5]\d$/.test(String(o.at))) fail(value, 'at is the local time the email was sent, "HH:MM"');
        return {
          ...loc, kind, template: str(o.template, 'expect_email template'), subject: o.subject === undefined ? undefined : str(o.subject, 'subject'),
          ...(o.at === undefined ? {} : { at: String(o.at) }),
        };
      }
      case 'expect_no_email': {
        const o = obj(json) ?? {};
        return { ...loc, kind, template: o.template === undefined ? undefined : str(o.template, 'template') };
      }
      case 'expect_contact':
        return { ...loc, kind, fields: obj(json) ?? fail(value, 'expect_contact is a map of contact fields and expected values') };
      case 'expect_run': {
        const o = obj(json) ?? fail(value, 'expect_run is { ended, reason? } or { waiting_for }');
        for (const k of Object.keys(o)) if (!['ended', 'reason', 'waiting_for', 'key'].includes(k)) fail(value, `unknown key "${k}" in expect_run (ended, reason, waiting_for, key)`);
        if (o.ended !== undefined && !RUN_OUTCOMES.includes(o.ended as (typeof RUN_OUTCOMES)[number])) fail(value, `ended must be one of ${RUN_OUTCOMES.join(', ')}`);
        return {
          ...loc, kind,
          ended: o.ended === undefined ? undefined : String(o.ended),
          reason: o.reason === undefined ? undefined : String(o.reason),
          waitingFor: o.waiting_for === undefined ? undefined : String(o.waiting_for),
          ...(o.key === undefined ? {} : { key: String(o.key) }),
        };
      }
      default:
        return fail(pair.key as Node, `unknown step "${kind}" (expected one of ${ACTIONS.join(', ')})`);
    }
  }
}

/**
 * Stage 2: semantic checks over the AST: CEL type checking, references (templates, segments, rule
 * sets), durations, times, cron, time zones, reachability, duplicate ids, split weights and the
 * marketing-consent rule. Returns nothing but diagnostics; never throws.
 */
import type { ASTNode, Environment } from '@marcbachmann/cel-js';
import { Cron } from 'croner';
import type { ExprAst, JourneyAst, L, RulesAst, Span, StepAst, StepListAst, TriggerAst } from './ast';
import { celEnvironment, typedEnvironment, TYPE_FIELDS, VARIABLES, type VariableName } from './cel-env';
import { astNodes, CEL_LIMITS, isParserLimitError, matchesCalls, re2PatternProblem } from './cel-limits';
import { CONTACT_FIELDS } from './contact-schema';
import { HOLIDAY_NAMES, isHolidayName } from './holiday-names';
import { DiagnosticSink, suggestion } from './diagnostics';
import { isLocalTime, isTimeZone, parseDayOffset, parseDuration } from './duration';
import { ATTRIBUTE_TYPES, DATA_FIELD_TYPES, type DataFieldType, type RulesPlan, type TemplateRef } from './plan';
import { CUSTOM_EVENT_RE, isKnownEvent, KNOWN_EVENTS } from './event-vocabulary';
import { templateDiagnostic, triggerProblem, useProblem, type TemplateVarUse } from './template-vars';
import { outboundUrlProblem, urlTargetsPrivateHost } from './outbound-url';

export { KNOWN_EVENTS } from './event-vocabulary';
export const EMAIL_STATUSES = ['unverified', 'pending', 'verified', 'bounced', 'complained', 'invalid', 'dormant'];
/** Contact fields an update step may set (classification, profile, custom attributes). */
export const SETTABLE_FIELDS = ['firstName', 'lastName', 'locale', 'timezone', 'source', 'channel', 'lifecycle', 'importance', 'rfm', 'businessType'];
const ID_RE = /^[a-z][a-z0-9_]*$/;
/** A trigger or event data field name (used as `trigger.data.<name>`). */
export const DATA_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** A dotted path into a webhook's JSON answer (set_from_response). */
export const RESPONSE_PATH_RE = /^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$/;

export interface ExprContext {
  vars: VariableName[]; params?: Record<string, unknown>; wantBool: boolean; what: string;
  /** The environment to check against (a journey's declared trigger data); the shared one by default. */
  env?: Environment;
  /** Declared trigger data fields, for "did you mean". */
  dataFields?: string[];
  /** Audience scans have no journey binding: only journey.params (inlined at compile time). */
  journeyParamsOnly?: boolean;
}

const clean = (t: string) => t.replace(/dyn<([^<>]*)>/g, '$1').replace(/google\.protobuf\.Timestamp/g, 'timestamp').replace(/google\.protobuf\.Duration/g, 'duration');

/** A value quoted in a message, cut short when it is long (a 500 KB value must not fill the terminal). */
function shown(v: string): string {
  return v.length > 80 ? `"${v.slice(0, 40)}..." (${v.length} characters)` : `"${v}"`;
}

/** Visits every node (iteratively: a long chain of operators must not exhaust the stack). */
function walkAst(n: ASTNode, f: (n: ASTNode) => void): void {
  for (const x of astNodes(n)) f(x);
}

function pathOf(n: ASTNode): string | null {
  if (n.op === 'id') return n.args;
  if (n.op === '.') { const p = pathOf(n.args[0]); return p === null ? null : `${p}.${n.args[1]}`; }
  return null;
}

function fieldCandidates(receiver: string, dataFields: string[] = []): string[] {
  if (receiver === 'trigger.data' || receiver === 'event.data') return dataFields;
  if (receiver === 'event' || receiver === 'trigger') return TYPE_FIELDS.Event;
  if (receiver === 'journey') return TYPE_FIELDS.Journey;
  if (receiver === 'message') return TYPE_FIELDS.Message;
  if (receiver.startsWith('contact')) {
    const prefix = receiver === 'contact' ? '' : `${receiver.slice('contact.'.length)}.`;
    return [...new Set(CONTACT_FIELDS.filter((f) => f.path.startsWith(prefix)).map((f) => f.path.slice(prefix.length).split('.')[0]))];
  }
  return [];
}

/** Type-checks one expression; returns its parsed AST when it is valid. */
export function checkExpr(e: ExprAst, ctx: ExprContext, sink: DiagnosticSink): ASTNode | null {
  const env = ctx.env ?? celEnvironment();
  const at = (s: number, en: number): Span => [e.offsets(s), e.offsets(Math.max(s + 1, en))];
  if (e.source.length > CEL_LIMITS.maxSourceLength) {
    sink.error('E_CEL_TOO_COMPLEX', `${ctx.what} is ${e.source.length} characters long; the limit is ${CEL_LIMITS.maxSourceLength}. Split it into segments or rules.`, at(0, 1));
    return null;
  }
  let ast: ASTNode;
  try {
    ast = env.parse(e.source).ast;
  } catch (err) {
    if (isParserLimitError(err)) {
      const r = (err as { range?: { start: number; end: number } }).range ?? { start: 0, end: 1 };
      sink.error('E_CEL_TOO_COMPLEX', `${ctx.what} is too large: more than ${CEL_LIMITS.maxAstNodes} operators, values and fields (or nested too deeply). Split it into segments or rules.`, at(r.start, r.end));
      return null;
    }
    const r = (err as { range?: { start: number; end: number } }).range ?? { start: 0, end: e.source.length };
    sink.error('E_CEL_SYNTAX', `${ctx.what} has a syntax error: ${(err as { summary?: string }).summary ?? (err as Error).message.split('\n')[0]}.`, at(r.start, r.end));
    return null;
  }
  let ok = true;
  // Variables available here, and journey params.
  walkAst(ast, (n) => {
    if (n.op === 'id' && (n.args in VARIABLES) && !ctx.vars.includes(n.args as VariableName)) {
      ok = false;
      sink.error('E_CEL_VARIABLE', `${ctx.what} cannot use "${n.args}" here; available: ${ctx.vars.join(', ')}.`, at(n.start, n.end));
    }
    if (ctx.journeyParamsOnly && n.op === '.' && pathOf(n.args[0]) === 'journey' && n.args[1] !== 'params') {
      ok = false;
      sink.error('E_CEL_VARIABLE', `${ctx.what} is checked before the journey starts: it can use journey.params but not journey.${n.args[1]}.`, at(n.start, n.end));
    }
    if (n.op === '.' && pathOf(n.args[0]) === 'journey.params') {
      const names = Object.keys(ctx.params ?? {});
      if (!names.includes(n.args[1])) {
        ok = false;
        sink.error('E_UNKNOWN_PARAM', `The journey has no param "${n.args[1]}".${suggestion(n.args[1], names)} Declare it under params:.`, at(n.start, n.end));
      }
    }
  });
  for (const m of matchesCalls(ast)) {
    if (m.pattern.op !== 'value' || typeof m.pattern.args !== 'string') continue;
    const problem = re2PatternProblem(m.pattern.args);
    if (problem) {
      ok = false;
      sink.error('E_CEL_REGEX', `${ctx.what} has a regular expression that RE2 does not accept (${problem}). matches() uses RE2 syntax: no backreferences or lookaround.`, at(m.pattern.start, m.pattern.end));
    }
  }
  if (!ok) return null;
  const r = env.check(e.source);
  if (!r.valid) {
    const err = r.error as unknown as { code?: string; range?: { start: number; end: number }; message: string; summary?: string };
    const range = err.range ?? { start: 0, end: e.source.length };
    const msg = clean((err.summary ?? err.message).split('\n')[0]);
    const key = /^No such key: (.+)$/.exec(msg);
    const unknownVar = /^Unknown variable: (.+)$/.exec(msg);
    if (key) {
      let receiver = '';
      walkAst(ast, (n) => { if (n.op === '.' && n.args[1] === key[1] && n.end >= range.end && n.start <= range.start) receiver = pathOf(n.args[0]) ?? ''; });
      const declared = receiver === 'trigger.data' || receiver === 'event.data'
        ? ` The journey's trigger declares ${ctx.dataFields?.length ? `data ${ctx.dataFields.join(', ')}` : 'no data'}; add the field to \`trigger: { data: { ${key[1]}: string } }\` (only declared fields are kept in the run).` : '';
      sink.error('E_CEL_UNKNOWN_FIELD', `${receiver || 'The value'} has no field "${key[1]}".${suggestion(key[1], fieldCandidates(receiver, ctx.dataFields))}${declared}`, at(range.start, range.end));
    } else if (unknownVar) {
      sink.error('E_CEL_VARIABLE', `"${unknownVar[1]}" is not known.${suggestion(unknownVar[1], ctx.vars)} Expressions can use ${ctx.vars.join(', ')}.`, at(range.start, range.end));
    } else if (err.code === 'no_matching_overload' && /^found no matching overload for '(\w+)\(/.test(msg) &&
      !env.getDefinitions().functions.some((f) => f.name === (/for '(\w+)\(/.exec(msg) as RegExpExecArray)[1])) {
      const name = (/for '(\w+)\(/.exec(msg) as RegExpExecArray)[1];
      const names = [...new Set(env.getDefinitions().functions.map((f) => f.name))];
      sink.error('E_CEL_UNKNOWN_FUNCTION', `There is no function "${name}".${suggestion(name, names)} See docs/dsl.md for the functions you can use.`, at(range.start, range.end));
    } else {
      sink.error('E_CEL_TYPE', `${ctx.what} mixes types: ${msg.replace(/^no such overload: /, 'no operator for ').replace(/^found no matching overload for /, 'no function ')}.`, at(range.start, range.end));
    }
    return null;
  }
  if (ctx.wantBool && r.type !== 'bool' && r.type !== 'dyn' && r.type !== 'dyn<bool>') {
    sink.error('E_CEL_NOT_BOOL', `${ctx.what} must be true or false, but this gives a ${clean(String(r.type))}.`, e.span);
    return null;
  }
  return ast;
}

// ---- consent analysis on the CEL AST -------------------------------------------------------

function isConsentEq(n: ASTNode, op: '==' | '!='): boolean {
  if (n.op !== op) return false;
  const [l, r] = n.args;
  const isField = (x: ASTNode) => pathOf(x) === 'contact.consent.email';
  const isSub = (x: ASTNode) => x.op === 'value' && x.args === 'subscribed';
  return (isField(l) && isSub(r)) || (isField(r) && isSub(l));
}
/** True when the expression can only be true for a subscribed contact. */
export function impliesSubscribed(n: ASTNode | null): boolean {
  if (!n) return false;
  if (isConsentEq(n, '==')) return true;
  if (n.op === 'call' && n.args[0] === 'isSubscribed') return true;
  if (n.op === '&&') return impliesSubscribed(n.args[0]) || impliesSubscribed(n.args[1]);
  if (n.op === '||') return impliesSubscribed(n.args[0]) && impliesSubscribed(n.args[1]);
  if (n.op === '!_') return excludesUnsubscribed(n.args);
  return false;
}
/** True when the expression is true for every contact that is not subscribed. */
export function excludesUnsubscribed(n: ASTNode | null): boolean {
  if (!n) return false;
  if (isConsentEq(n, '!=')) return true;
  if (n.op === '||') return excludesUnsubscribed(n.args[0]) || excludesUnsubscribed(n.args[1]);
  if (n.op === '&&') return excludesUnsubscribed(n.args[0]) && excludesUnsubscribed(n.args[1]);
  if (n.op === '!_') return impliesSubscribed(n.args);
  return false;
}

// ---- journey checks -------------------------------------------------------------------------

export interface CheckContext {
  templates: Record<string, TemplateRef>; rules: RulesPlan; segmentAsts?: Map<string, ASTNode | null>;
  /** Variable uses per template; each send checks them against what this journey provides. */
  templateUses?: Record<string, TemplateVarUse[]>;
  /** Template problems already reported (shared across the journeys of one compile). */
  reported?: Set<string>;
}

export function checkJourney(j: JourneyAst, ctx: CheckContext, sink: DiagnosticSink): void {
  if (j.id.value && !ID_RE.test(j.id.value)) sink.error('E_BAD_ID', `The journey id "${j.id.value}" should be lower_snake_case, like welcome_series.`, j.id.span);
  const dur = (l: L<string> | undefined, what: string) => {
    if (l && parseDuration(l.value) === null) sink.error('E_BAD_DURATION', `${what} "${l.value}" is not a duration. Write it like 30m, 36h, 2d or 1w.`, l.span);
  };
  const time = (l: L<string> | undefined, what: string) => {
    if (l && !isLocalTime(l.value)) sink.error('E_BAD_LOCAL_TIME', `${what} "${l.value}" is not a time of day. Write it as HH:MM, e.g. "09:00".`, l.span);
  };
  const tz = (l: L<string> | undefined) => {
    if (l && !isTimeZone(l.value)) sink.error('E_BAD_TIMEZONE', `${shown(l.value)} is not a time zone. Use an IANA name such as Europe/Paris or Asia/Shanghai.`, l.span);
  };
  const cron = (l: L<string> | undefined) => {
    if (!l) return;
    try {
      if (l.value.trim().split(/\s+/).length < 5) throw new Error('too few fields');
      new Cron(l.value, { paused: true });
    } catch (e) {
      sink.error('E_BAD_CRON', `"${l.value}" is not a valid cron schedule (${(e as Error).message.replace(/^CronPattern: /, '')}). Example: "0 9 * * *" = every day at 09:00.`, l.span);
    }
  };
  // Events: the vocabulary Sojourn emits, or custom events the journey declares (sent by its own systems).
  const custom = new Set<string>();
  for (const c of j.customEvents) {
    if (!CUSTOM_EVENT_RE.test(c.value)) {
      sink.error('E_BAD_VALUE', `"${c.value}" is not an event name. Write it like cart.abandoned (lower case words joined by dots).`, c.span);
      continue;
    }
    if (isKnownEvent(c.value)) sink.warn('W_CUSTOM_EVENT_KNOWN', `"${c.value}" is emitted by Sojourn; it needs no custom_events entry.`, c.span);
    custom.add(c.value);
  }
  const event = (l: L<string> | undefined) => {
    if (!l || isKnownEvent(l.value) || custom.has(l.value)) return;
    sink.error('E_UNDECLARED_EVENT', `Nothing emits "${l.value}".${suggestion(l.value, [...KNOWN_EVENTS, ...custom])} Use an event from the vocabulary (docs/events.md), or declare it under custom_events: if your systems send it through the API.`, l.span);
  };
  const segment = (l: L<string> | undefined) => {
    if (l && !ctx.rules.segments[l.value]) sink.error('E_UNKNOWN_SEGMENT', `There is no segment "${l.value}".${suggestion(l.value, Object.keys(ctx.rules.segments))} Segments are defined in a rules file (journeys/*.rules.yaml).`, l.span);
  };
  const paramValues = Object.fromEntries(Object.entries(j.params).map(([k, v]) => [k, v.value]));
  // Trigger data: the declared fields of each event trigger; `trigger.data` is their union (one type per name).
  const dataFields: Record<string, DataFieldType> = {};
  const ownData = new Map<TriggerAst, Record<string, DataFieldType>>();
  for (const t of j.triggers) {
    if (t.kind !== 'event' || !t.data) continue;
    const own: Record<string, DataFieldType> = {};
    for (const f of t.data) {
      if (!DATA_NAME_RE.test(f.name.value)) { sink.error('E_BAD_VALUE', `${shown(f.name.value)} is not a data field name. Use letters, digits and _ (like orderId).`, f.name.span); continue; }
      if (!(DATA_FIELD_TYPES as readonly string[]).includes(f.type.value)) {
        sink.error('E_BAD_VALUE', `${shown(f.type.value)} is not a data type.${suggestion(f.type.value, DATA_FIELD_TYPES)} Use ${DATA_FIELD_TYPES.join(', ')}.`, f.type.span);
        continue;
      }
      const type = f.type.value as DataFieldType;
      if (dataFields[f.name.value] && dataFields[f.name.value] !== type) {
        sink.error('E_WRONG_TYPE', `Another trigger declares ${f.name.value} as ${dataFields[f.name.value]}; trigger.data.${f.name.value} needs one type.`, f.type.span);
        continue;
      }
      own[f.name.value] = type;
      dataFields[f.name.value] = type;
    }
    ownData.set(t, own);
  }
  const dataNames = Object.keys(dataFields);
  const journeyEnv = typedEnvironment({ fields: dataFields, entryEvent: false });
  /** At entry, `event` is the trigger event: typed by that trigger's declared data when it has some. */
  const entryEnv = (t: TriggerAst) => { const own = ownData.get(t); return own ? typedEnvironment({ fields: own, entryEvent: true }) : undefined; };
  const expr = (e: ExprAst | undefined, vars: VariableName[], what: string, wantBool = true) =>
    (e ? checkExpr(e, { vars, params: paramValues, wantBool, what, env: journeyEnv, dataFields: dataNames }, sink) : null);

  /** A contact date a trigger or wait can use: a timestamp field, a custom attribute declared date, or birthday (triggers). */
  const dateField = (f: L<string>, what: string, birthdayOk: boolean, bestTimeOk = false) => {
    const field = f.value.replace(/^contact\./, '');
    const attr = /^attributes\.(.+)$/.exec(field)?.[1];
    const declared = ctx.rules.attributes ?? {};
    const dateFields = [...(birthdayOk ? ['birthday'] : []), ...CONTACT_FIELDS.filter((c) => c.type === 'timestamp').map((c) => c.path)];
    if (attr ? declared[attr] !== 'date' : !dateFields.includes(field)) {
      sink.error('E_BAD_DATE_FIELD', attr
        ? `The attribute ${attr} is ${declared[attr] ? `declared ${declared[attr]}` : 'not declared'}; ${what} needs \`attributes: { ${attr}: date }\` in a rules file.`
        : `"${f.value}" is not a date of the contact.${suggestion(field, bestTimeOk ? [...dateFields, 'best_time'] : dateFields)} Use a date field (${dateFields.join(', ')})${bestTimeOk ? ', a custom attribute declared `date` in a rules file, or best_time (the contact\'s best hour to read email).' : ' or a custom attribute declared `date` in a rules file.'}`, f.span);
    }
  };

  // Triggers: the journey is consent-guarded when every trigger only admits subscribed contacts.
  const triggerGuards: boolean[] = [];
  for (const t of j.triggers) {
    const vars: VariableName[] = t.kind === 'event' ? ['contact', 'event', 'journey', 'now'] : ['contact', 'journey', 'now'];
    // A trigger is checked before the run exists: journey.params only (inlined at compile time).
    const w = t.when ? checkExpr(t.when, { vars, params: paramValues, wantBool: true, what: 'The trigger condition', journeyParamsOnly: true, env: entryEnv(t), dataFields: Object.keys(ownData.get(t) ?? {}) }, sink) : null;
    let g = impliesSubscribed(w);
    if (t.kind === 'event') event(t.event);
    if (t.kind === 'schedule') {
      cron(t.cron); tz(t.timezone); segment(t.segment);
      const a = t.audience ? checkExpr(t.audience, { vars: ['contact', 'journey', 'now'], params: paramValues, wantBool: true, what: 'The audience', journeyParamsOnly: true }, sink) : null;
      g = g || impliesSubscribed(a) || (!!t.segment && impliesSubscribed(ctx.segmentAsts?.get(t.segment.value) ?? null));
    }
    if (t.kind === 'date') {
      if (t.field) dateField(t.field, 'a date trigger on it', true);
      if (t.holiday && !isHolidayName(t.holiday.value)) {
        sink.error('E_UNKNOWN_HOLIDAY', `"${t.holiday.value}" is not a holiday Sojourn knows.${suggestion(t.holiday.value, HOLIDAY_NAMES)} Known: ${HOLIDAY_NAMES.join(', ')}.`, t.holiday.span);
      }
      if (t.offset && parseDayOffset(t.offset.value) === null) sink.error('E_BAD_DURATION', `offset "${t.offset.value}" is not a number of days. Write it like -14d, 1d or -2w.`, t.offset.span);
      if (t.repeat && !['yearly', 'once'].includes(t.repeat.value)) sink.error('E_BAD_VALUE', `repeat "${t.repeat.value}" should be yearly (anniversaries) or once (renewals).`, t.repeat.span);
      else if (t.repeat?.value === 'once' && (t.holiday || t.field?.value === 'birthday')) sink.error('E_BAD_VALUE', `A ${t.holiday ? 'holiday' : 'birthday'} comes back every year: repeat can only be yearly here.`, t.repeat.span);
      time(t.at, 'at');
    }
    if (t.kind === 'segment') {
      segment(t.segment); cron(t.cron); tz(t.timezone);
      g = g || impliesSubscribed(ctx.segmentAsts?.get(t.segment.value) ?? null);
    }
    triggerGuards.push(g);
  }
  if (j.entry?.kind === 'every') dur(j.entry.period, 'entry every');
  const entityKey = j.entry?.key;
  if (entityKey) {
    if (j.entry?.kind === 'every') sink.error('E_BAD_ENTRY', 'A keyed entry runs once per key (or restarts per key); it cannot be combined with every.', j.entry.span);
    const nonEvent = j.triggers.find((t) => t.kind !== 'event');
    if (nonEvent) sink.error('E_BAD_ENTRY', 'A keyed entry takes its key from the trigger event, but this journey also starts from a scan (schedule, date or segment), which has no event.', nonEvent.span);
    for (const t of j.triggers) {
      if (t.kind !== 'event') continue;
      const env = entryEnv(t);
      if (!checkExpr(entityKey, { vars: ['event'], wantBool: false, what: 'The entry key', env, dataFields: Object.keys(ownData.get(t) ?? {}) }, sink)) break;
      const type = clean(String((env ?? celEnvironment()).check(entityKey.source).type));
      if (!['string', 'int', 'dyn'].includes(type)) { sink.error('E_WRONG_TYPE', `The entry key must be text or a whole number (like event.data.orderId), but this gives a ${type}.`, entityKey.span); break; }
    }
  }
  const exitAst = expr(j.exitWhen, ['contact', 'event', 'journey', 'trigger', 'now'], 'exit_when');
  if (j.goal) { event(j.goal.event); dur(j.goal.within, 'goal within'); expr(j.goal.when, ['contact', 'event', 'journey', 'trigger', 'now'], 'The goal condition'); }
  const s = j.settings;
  time(s.quietHours?.from, 'quiet_hours from'); time(s.quietHours?.to, 'quiet_hours to');
  dur(s.frequency?.per, 'frequency per');
  if (s.frequency?.max && (s.frequency.max.value < 1 || !Number.isInteger(s.frequency.max.value))) sink.error('E_WRONG_TYPE', 'frequency max should be a whole number of at least 1.', s.frequency.max.span);
  tz(s.timezone);

  if (!j.steps) return;
  if (j.steps.items === 0) { sink.error('E_EMPTY_STEPS', 'The journey has no steps. Add at least one, e.g. `- send: welcome`.', j.steps.span); return; }

  // Steps: ids, references, reachability, consent.
  const seenIds = new Map<string, Span>();
  let marketing = false;
  let unguardedMarketing: Span | null = null;
  const entryGuarded = (triggerGuards.length > 0 && triggerGuards.every(Boolean)) || excludesUnsubscribed(exitAst);

  const visitList = (list: StepListAst | null, guarded: boolean, what: string): { terminates: boolean; guarded: boolean } => {
    if (!list) return { terminates: false, guarded };
    if (list.items === 0) sink.warn('W_EMPTY_BRANCH', `${what} has no steps.`, list.span);
    let terminated = false;
    for (const st of list.steps) {
      if (terminated) { sink.error('E_UNREACHABLE_STEP', 'This step can never run: the steps before it always exit the journey.', st.kindSpan); break; }
      const r = visitStep(st, guarded);
      guarded = r.guarded;
      terminated = r.terminates;
    }
    return { terminates: terminated, guarded };
  };

  const visitStep = (st: StepAst, guarded: boolean): { terminates: boolean; guarded: boolean } => {
    if (st.id) {
      if (!ID_RE.test(st.id.value)) sink.error('E_BAD_ID', `The step id "${st.id.value}" should be lower_snake_case, like wait_for_click.`, st.id.span);
      const prev = seenIds.get(st.id.value);
      if (prev) sink.error('E_DUPLICATE_STEP_ID', `Another step already has the id "${st.id.value}". Step ids must be unique in a journey.`, st.id.span);
      else seenIds.set(st.id.value, st.id.span);
    }
    const vars: VariableName[] = ['contact', 'journey', 'trigger', 'now'];
    switch (st.kind) {
      case 'send': {
        const ref = ctx.templates[st.template.value];
        for (const u of (ref && ctx.templateUses?.[st.template.value]) || []) {
          const general = useProblem(u);
          const own = general ? null : triggerProblem(u, j.id.value, dataNames);
          const key = `${u.file}:${u.line}:${u.col}:${u.path}${own ? `:${j.id.value}` : ''}`;
          if ((general || own) && !ctx.reported?.has(key)) {
            ctx.reported?.add(key);
            sink.list.push(templateDiagnostic(u, general ?? own!));
          }
        }
        if (!ref) sink.error('E_UNKNOWN_TEMPLATE', `There is no template "${st.template.value}".${suggestion(st.template.value, Object.keys(ctx.templates))} Templates are templates/<id>.hbs.`, st.template.span);
        else if (ref.marketing) {
          marketing = true;
          if (!guarded && !unguardedMarketing) unguardedMarketing = st.template.span;
          if (!ref.topic) sink.error('E_TEMPLATE_NO_TOPIC', `The marketing template "${st.template.value}" declares no topic. Add \`topic: <name>\` (e.g. news or offers) to the front matter of templates/${st.template.value}.hbs, so a contact who turned that topic off in the preference centre does not get it.`, st.template.span);
        }
        return { terminates: false, guarded };
      }
      case 'wait':
        dur(st.duration, 'wait'); time(st.untilTime, 'until_time'); time(st.at, 'at');
        if (st.untilDate && st.untilDate.value !== 'birthday') sink.error('E_BAD_DATE_FIELD', `"${st.untilDate.value}" is not a yearly date field. Only birthday is supported.`, st.untilDate.span);
        if (st.until && st.until.value !== 'best_time') dateField(st.until, 'a wait until it', false, true);
        if (st.offset && parseDayOffset(st.offset.value) === null) sink.error('E_BAD_DURATION', `offset "${st.offset.value}" is not a number of days. Write it like -14d, 1d or -2w.`, st.offset.span);
        if (st.offset && st.until?.value === 'best_time') sink.error('E_BAD_VALUE', 'offset moves a date; `until: best_time` takes `within` instead.', st.offset.span);
        if (st.within && st.until?.value !== 'best_time') sink.error('E_BAD_VALUE', 'within belongs to `until: best_time`: how long the send may wait for the contact\'s best hour.', st.within.span);
        dur(st.within, 'within');
        if (st.within && st.until?.value === 'best_time') {
          const ms = parseDuration(st.within.value);
          if (ms !== null && (ms < 3_600_000 || ms > 7 * 86_400_000)) sink.error('E_BAD_DURATION', `within "${st.within.value}" should be between 1h and 7d: the hours to choose from.`, st.within.span);
        }
        return { terminates: false, guarded };
      case 'wait_for': {
        event(st.event);
        if (!st.timeout) sink.error('E_WAIT_FOR_NO_TIMEOUT', 'wait_for needs a timeout (e.g. `timeout: 5d`), or the contact could wait forever.', st.kindSpan);
        dur(st.timeout, 'timeout');
        if (st.correlate) expr(st.correlate, ['contact', 'event', 'journey', 'trigger', 'now'], 'correlate');
        for (const c of st.correlateMap ?? []) {
          if (!DATA_NAME_RE.test(c.field.value)) sink.error('E_BAD_VALUE', `${shown(c.field.value)} is not an event data field name. Use letters, digits and _ (like orderId).`, c.field.span);
          expr(c.value, ['contact', 'journey', 'trigger', 'now'], `correlate ${c.field.value}`, false);
        }
        const r = visitList(st.onTimeout, guarded, 'on_timeout');
        return { terminates: false, guarded: guarded && (r.terminates || r.guarded) };
      }
      case 'if': {
        const c = expr(st.cond, vars, 'The if condition');
        const a = visitList(st.then, guarded || impliesSubscribed(c), 'then');
        const b = visitList(st.else, guarded || excludesUnsubscribed(c), 'else');
        const out = [a, b].filter((x) => !x.terminates);
        return { terminates: a.terminates && b.terminates, guarded: out.every((x) => x.guarded) };
      }
      case 'split': {
        const total = st.branches.reduce((n, b) => n + b.weight.value, 0) + (st.holdout?.value ?? 0);
        if (st.branches.length === 0) sink.error('E_EMPTY_STEPS', 'split needs at least one branch.', st.kindSpan);
        else if (total !== 100) sink.error('E_SPLIT_WEIGHTS', `The split weights${st.holdout ? ' and holdout' : ''} add up to ${total}, not 100.`, st.kindSpan);
        const names = new Set<string>();
        for (const b of st.branches) {
          if (names.has(b.name.value)) sink.error('E_DUPLICATE_NAME', `Two branches are named "${b.name.value}".`, b.name.span);
          names.add(b.name.value);
          if (b.weight.value < 0) sink.error('E_SPLIT_WEIGHTS', 'A weight cannot be negative.', b.weight.span);
        }
        const rs = st.branches.map((b) => visitList(b.steps ?? { steps: [], span: b.span, items: 0 }, guarded, `Branch ${b.name.value}`));
        const out = rs.filter((x) => !x.terminates);
        return { terminates: rs.length > 0 && out.length === 0 && !(st.holdout && st.holdout.value > 0 ? false : false), guarded: out.every((x) => x.guarded) };
      }
      case 'update': {
        for (const f of st.set) {
          const name = f.field.value;
          const isAttr = name.startsWith('attributes.') && name.length > 'attributes.'.length;
          if (!SETTABLE_FIELDS.includes(name) && !isAttr) {
            sink.error('E_UNKNOWN_FIELD', `"${name}" is not a contact field an update can set.${suggestion(name, SETTABLE_FIELDS)} Use attributes.<name> for custom fields; tags, consent and email_status have their own keys.`, f.field.span);
          } else if (f.isExpr) {
            expr(f.value as ExprAst, ['contact', 'journey', 'trigger', 'now'], `The value of ${name}`, false);
          } else {
            const v = (f.value as L<unknown>).value;
            if (!isAttr && v !== null && typeof v !== 'string') sink.error('E_WRONG_TYPE', `${name} should be text.`, (f.value as L<unknown>).span);
          }
        }
        if (st.consent) {
          if (!['subscribed', 'unsubscribed'].includes(st.consent.status.value)) {
            sink.error('E_BAD_VALUE', `Consent can be set to subscribed or unsubscribed, not "${st.consent.status.value}".`, st.consent.status.span);
          }
        }
        if (st.emailStatus && !EMAIL_STATUSES.includes(st.emailStatus.value)) {
          sink.error('E_BAD_VALUE', `"${st.emailStatus.value}" is not an email status.${suggestion(st.emailStatus.value, EMAIL_STATUSES)} Use one of ${EMAIL_STATUSES.join(', ')}.`, st.emailStatus.span);
        }
        for (const tag of [...st.addTags, ...st.removeTags]) {
          if (!/^[a-z0-9][a-z0-9_:\-]*$/.test(tag.value)) sink.error('E_BAD_VALUE', `Tag "${tag.value}" should be lower-case letters, digits, _ - or :.`, tag.span);
        }
        return { terminates: false, guarded: st.consent?.status.value === 'unsubscribed' ? false : guarded };
      }
      case 'classify':
        if (!ctx.rules.ruleSets[st.ruleSet.value]) sink.error('E_UNKNOWN_RULE_SET', `There is no rule set "${st.ruleSet.value}".${suggestion(st.ruleSet.value, Object.keys(ctx.rules.ruleSets))}`, st.ruleSet.span);
        else if (ctx.rules.ruleSets[st.ruleSet.value].over === 'message') sink.error('E_UNKNOWN_RULE_SET', `The rule set "${st.ruleSet.value}" classifies inbound messages, not contacts; a classify step needs a contact rule set.`, st.ruleSet.span);
        return { terminates: false, guarded };
      case 'webhook': {
        if (st.url) {
          const problem = outboundUrlProblem(st.url.value);
          if (problem) sink.error('E_WEBHOOK_URL', problem.message, st.url.span);
          else {
            if (urlTargetsPrivateHost(st.url.value)) sink.warn('W_WEBHOOK_PRIVATE_HOST', `${shown(st.url.value)} points into a private or local network; outside development mode the call is refused (no private address ranges, docs/dsl.md).`, st.url.span);
            if (st.url.value.startsWith('http:')) sink.warn('W_WEBHOOK_PLAIN_HTTP', 'The call would be sent unencrypted; outside development mode only https:// URLs are called.', st.url.span);
          }
        }
        const names = new Set<string>();
        for (const f of st.body) {
          if (names.has(f.field.value)) sink.error('E_DUPLICATE_NAME', `The body has "${f.field.value}" twice.`, f.field.span);
          names.add(f.field.value);
          if (f.isExpr) expr(f.value as ExprAst, ['contact', 'journey', 'now'], `The body value ${f.field.value}`, false);
        }
        for (const m of st.setFromResponse) {
          const name = m.field.value;
          if (!SETTABLE_FIELDS.includes(name) && !(name.startsWith('attributes.') && name.length > 'attributes.'.length)) {
            sink.error('E_UNKNOWN_FIELD', `"${name}" is not a contact field a webhook answer can set.${suggestion(name, SETTABLE_FIELDS)} Use attributes.<name> for custom fields.`, m.field.span);
          }
          if (!RESPONSE_PATH_RE.test(m.path.value)) sink.error('E_BAD_VALUE', `${shown(m.path.value)} is not a field of the JSON answer. Write a dotted path such as id or deal.stage.`, m.path.span);
        }
        return { terminates: false, guarded };
      }
      case 'task': {
        if (st.title && (st.title.value.trim() === '' || st.title.value.length > 200)) sink.error('E_BAD_VALUE', 'The task title should be 1 to 200 characters.', st.title.span);
        if (st.why && st.why.value.length > 1000) sink.error('E_BAD_VALUE', 'why should be at most 1,000 characters.', st.why.span);
        if (st.due) dur(st.due, 'due');
        if (st.webhook) {
          const problem = outboundUrlProblem(st.webhook.value);
          if (problem) sink.error('E_WEBHOOK_URL', problem.message, st.webhook.span);
          else {
            if (urlTargetsPrivateHost(st.webhook.value)) sink.warn('W_WEBHOOK_PRIVATE_HOST', `${shown(st.webhook.value)} points into a private or local network; outside development mode the call is refused (no private address ranges, docs/dsl.md).`, st.webhook.span);
            if (st.webhook.value.startsWith('http:')) sink.warn('W_WEBHOOK_PLAIN_HTTP', 'The call would be sent unencrypted; outside development mode only https:// URLs are called.', st.webhook.span);
          }
        }
        if (st.email?.value === false && !st.webhook) sink.warn('W_TASK_UNNOTIFIED', 'Nobody is told about this task (email: false and no webhook); it is only listed under GET /v1/tasks.', st.kindSpan);
        return { terminates: false, guarded };
      }
      case 'exit':
        if (st.outcome && !['exited', 'converted'].includes(st.outcome.value)) sink.error('E_BAD_VALUE', `exit outcome should be exited or converted, not "${st.outcome.value}".`, st.outcome.span);
        return { terminates: true, guarded };
    }
  };

  visitList(j.steps, entryGuarded, 'The journey');
  if (unguardedMarketing) {
    sink.error('E_NO_CONSENT_CHECK', 'This marketing email could reach a contact without email consent. Add `contact.consent.email == "subscribed"` to the trigger `when`, `contact.consent.email != "subscribed"` to exit_when, or put the send under an `if` that checks it.', unguardedMarketing);
  }
  if (!marketing && j.settings.frequency) {
    sink.warn('W_TRANSACTIONAL_QUIET', 'This journey sends no marketing email, so the frequency cap (which counts marketing email) does nothing here.', j.settings.frequency.span);
  }
  if (marketing && !excludesUnsubscribed(exitAst) && j.exitWhen === undefined) {
    sink.warn('W_NO_EXIT_WHEN', 'This journey sends marketing email but has no exit_when; add `exit_when: contact.consent.email != "subscribed"` so an unsubscribe stops it.', j.id.span);
  }
}

const RULE_SET_SUBJECTS = ['contact', 'message'];
/** What rule sets over inbound messages write (mail/inbound.ts stores them on the contact's timeline). */
export const MESSAGE_CLASS_FIELDS = ['category', 'urgency'];

export function checkRules(r: RulesAst, sink: DiagnosticSink): Map<string, ASTNode | null> {
  const asts = new Map<string, ASTNode | null>();
  const names = new Set<string>();
  for (const s of r.segments) {
    if (!ID_RE.test(s.name.value)) sink.error('E_BAD_ID', `The segment name "${s.name.value}" should be lower_snake_case.`, s.name.span);
    if (names.has(s.name.value)) sink.error('E_DUPLICATE_NAME', `The segment "${s.name.value}" is defined twice.`, s.name.span);
    names.add(s.name.value);
    asts.set(s.name.value, s.expr ? checkExpr(s.expr, { vars: ['contact', 'now'], wantBool: true, what: `Segment ${s.name.value}` }, sink) : null);
  }
  for (const a of r.attributes) {
    if (!DATA_NAME_RE.test(a.name.value)) sink.error('E_BAD_VALUE', `${shown(a.name.value)} is not an attribute name. Use letters, digits and _ (like renewalDate).`, a.name.span);
    if (!(ATTRIBUTE_TYPES as readonly string[]).includes(a.type.value)) sink.error('E_BAD_VALUE', `${shown(a.type.value)} is not an attribute type.${suggestion(a.type.value, ATTRIBUTE_TYPES)} Use ${ATTRIBUTE_TYPES.join(', ')}.`, a.type.span);
  }
  const sets = new Set<string>();
  const classFields = ['lifecycle', 'importance', 'rfm', 'businessType'];
  for (const rs of r.ruleSets) {
    if (!ID_RE.test(rs.name.value)) sink.error('E_BAD_ID', `The rule set name "${rs.name.value}" should be lower_snake_case.`, rs.name.span);
    if (sets.has(rs.name.value)) sink.error('E_DUPLICATE_NAME', `The rule set "${rs.name.value}" is defined twice.`, rs.name.span);
    sets.add(rs.name.value);
    if (rs.over && !RULE_SET_SUBJECTS.includes(rs.over.value)) sink.error('E_UNKNOWN_FIELD', `A rule set classifies a contact (the default) or a message, not "${rs.over.value}".${suggestion(rs.over.value, RULE_SET_SUBJECTS)}`, rs.over.span);
    const overMessage = rs.over?.value === 'message';
    const fields = overMessage ? MESSAGE_CLASS_FIELDS : classFields;
    if (rs.field && !fields.includes(rs.field.value)) sink.error('E_UNKNOWN_FIELD', `A rule set${overMessage ? ' over messages' : ''} writes one of ${fields.join(', ')}, not "${rs.field.value}".${suggestion(rs.field.value, fields)}`, rs.field.span);
    if (rs.rules.length === 0) sink.error('E_EMPTY_STEPS', `Rule set ${rs.name.value} has no rules.`, rs.name.span);
    const vars: VariableName[] = overMessage ? ['message', 'contact', 'now'] : ['contact', 'now'];
    for (const rule of rs.rules) if (rule.when) checkExpr(rule.when, { vars, wantBool: true, what: `Rule ${rule.value.value}` }, sink);
  }
  return asts;
}

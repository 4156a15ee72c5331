/**
 * The CEL environment shared by the checker (compile time) and the evaluator (run time):
 * the typed variables `contact`, `event`, `journey`, `now`, and the marketer functions.
 *
 * Null fields: nullable contact fields are declared `dyn<T>` so `x == null` type-checks while
 * `x == 3` on a string field still fails. Ordering a null (`null < timestamp`) is a CEL error;
 * `||`/`&&` absorb errors as the CEL spec says, and a condition whose result is an error counts as
 * false. `daysSince(null)` is defined (never = days since 1970), so "inactive for 90 days"
 * includes contacts who never opened. The pushdown (pushdown.ts) reproduces exactly this.
 *
 * Functions read the bound `now` through `clock`, set by the evaluator before each evaluation
 * (evaluation is synchronous, so this is safe and deterministic; never Date.now()).
 */
import { Environment } from '@marcbachmann/cel-js';
import { CEL_LIMITS, re2Matches } from './cel-limits';
import { CONTACT_FIELDS, type CelFieldType, type ContactView, type EventView, type JourneyView } from './contact-schema';
import { MAX_INTL_SCALAR } from './duration';
import type { DataFieldType } from './plan';

export const TIMESTAMP = 'google.protobuf.Timestamp';
export const DURATION = 'google.protobuf.Duration';
const DAY_MS = 86_400_000;

/**
 * The evaluation clock: `now` and the default time zone of the running evaluation. Module-private and
 * set only by `withClock`: the worker shares this module between runs and freezes its exports
 * (worker/bundle-options.ts), and an evaluation is synchronous, so no other run sees it set.
 */
const clock = { now: new Date(0), timezone: 'UTC' };

/** Runs `fn` (a synchronous evaluation) with the clock at `now` in `timezone`, then restores it. */
export function withClock<T>(now: Date, timezone: string, fn: () => T): T {
  const prevNow = clock.now;
  const prevTz = clock.timezone;
  clock.now = now;
  clock.timezone = timezone;
  try {
    return fn();
  } finally {
    clock.now = prevNow;
    clock.timezone = prevTz;
  }
}

function celType(t: CelFieldType, nullable: boolean): string {
  const base = t === 'timestamp' ? TIMESTAMP : t === 'map<string,dyn>' ? 'map<string, dyn>' : t;
  return nullable && !t.startsWith('list') && !t.startsWith('map') ? `dyn<${base}>` : base;
}

interface TypeSpec { name: string; fields: Record<string, string>; ctor: new (v: Record<string, unknown>) => object }

/** A CEL message type whose instances read lazily from a plain view object (ints become BigInt). */
function makeType(name: string, fieldTypes: Record<string, string>, nested: Record<string, TypeSpec>): TypeSpec {
  const Ctor = { [name]: class { constructor(readonly v: Record<string, unknown>) {} } }[name];
  for (const [key, type] of Object.entries(fieldTypes)) {
    const sub = nested[key];
    let get: (this: { v: Record<string, unknown> }) => unknown;
    if (sub) get = function () { const x = this.v[key]; return x == null ? x : new sub.ctor(x as Record<string, unknown>); };
    else if (type === 'int' || type === 'dyn<int>') get = function () { const x = this.v[key]; return typeof x === 'number' ? BigInt(Math.trunc(x)) : x; };
    else if (type.startsWith('map')) get = function () { return this.v[key] ?? {}; };
    else if (type.startsWith('list')) get = function () { return this.v[key] ?? []; };
    else get = function () { return this.v[key]; };
    Object.defineProperty(Ctor.prototype, key, { get, enumerable: true });
  }
  return { name, fields: fieldTypes, ctor: Ctor };
}

function buildContactTypes(): TypeSpec[] {
  const groups = new Map<string, Record<string, string>>();
  const top: Record<string, string> = {};
  for (const f of CONTACT_FIELDS) {
    const [head, ...rest] = f.path.split('.');
    if (rest.length === 0) top[head] = celType(f.type, f.nullable);
    else {
      const g = groups.get(head) ?? {};
      g[rest.join('.')] = celType(f.type, f.nullable);
      groups.set(head, g);
    }
  }
  const nested: Record<string, TypeSpec> = {};
  const specs: TypeSpec[] = [];
  for (const [head, fields] of groups) {
    const spec = makeType(`Contact${head[0].toUpperCase()}${head.slice(1)}`, fields, {});
    nested[head] = spec;
    top[head] = spec.name;
    specs.push(spec);
  }
  specs.push(makeType('Contact', top, nested));
  return specs;
}

const contactTypes = buildContactTypes();
const ContactSpec = contactTypes[contactTypes.length - 1];
const EventSpec = makeType('Event', { name: 'string', at: TIMESTAMP, data: 'map<string, dyn>' }, {});
/** The event that started the run (`trigger.*`); its data holds only the fields the journey declares. */
const TriggerSpec = makeType('Trigger', { name: 'string', at: TIMESTAMP, data: 'map<string, dyn>' }, {});
const JourneySpec = makeType('Journey', { id: 'string', version: 'int', startedAt: TIMESTAMP, params: 'map<string, dyn>' }, {});
/** An inbound email as rule sets over messages see it (mail/inbound.ts builds it; never stored whole). */
const MessageSpec = makeType('Message', {
  from: 'string', fromDomain: 'string', to: 'list<string>', subject: 'string', text: 'string',
  isReply: 'bool', isAutoReply: 'bool', knownContact: 'bool',
}, {});

/** The `message` variable's value. */
export interface MessageView {
  from: string;
  fromDomain: string;
  to: string[];
  subject: string;
  text: string;
  isReply: boolean;
  isAutoReply: boolean;
  knownContact: boolean;
}

/** Field names per CEL type, for "did you mean". */
export const TYPE_FIELDS: Record<string, string[]> = Object.fromEntries(
  [...contactTypes, EventSpec, JourneySpec, MessageSpec, TriggerSpec].map((s) => [s.name, Object.keys(s.fields)]));

/** The CEL type name of each variable. */
export const VARIABLES = { contact: 'Contact', event: 'Event', journey: 'Journey', message: 'Message', trigger: 'Trigger', now: TIMESTAMP } as const;
export type VariableName = keyof typeof VARIABLES;

const dtfCache = new Map<string, Intl.DateTimeFormat>();
function localParts(c: { v: Record<string, unknown> }): { year: number; month: number; day: number; hour: number; weekday: number } {
  // Only short names reach Intl (a huge string would take seconds to reject); anything else is the default zone.
  const own = typeof c.v.timezone === 'string' && c.v.timezone.length <= MAX_INTL_SCALAR ? c.v.timezone : '';
  const tz = own || (clock.timezone.length <= MAX_INTL_SCALAR ? clock.timezone : 'UTC');
  let f = dtfCache.get(tz);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', hourCycle: 'h23', weekday: 'short' });
    } catch {
      f = new Intl.DateTimeFormat('en-US', { timeZone: 'UTC', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', hourCycle: 'h23', weekday: 'short' });
    }
    if (dtfCache.size >= 1000) dtfCache.clear();
    dtfCache.set(tz, f);
  }
  const p: Record<string, string> = {};
  for (const part of f.formatToParts(clock.now)) p[part.type] = part.value;
  return {
    year: Number(p.year), month: Number(p.month), day: Number(p.day), hour: Number(p.hour) % 24,
    weekday: ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(p.weekday),
  };
}

function isLeap(y: number): boolean { return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0; }

/** Marketer functions, documented in docs/dsl.md: signature and description. */
export const FUNCTIONS: { signature: string; description: string }[] = [];
/**
 * Their handlers, by signature. Not exported: the worker freezes what a shared module exports
 * (worker/bundle-options.ts), and cel-js caches a dispatcher on each handler function.
 */
const HANDLERS = new Map<string, (...args: never[]) => unknown>();
function fn(signature: string, description: string, handler: (...args: never[]) => unknown): void {
  FUNCTIONS.push({ signature, description });
  HANDLERS.set(signature, handler);
}

let DurationCtor: { fromMilliseconds(ms: number): unknown } | undefined;
const durationOf = (ms: number): unknown => (DurationCtor as { fromMilliseconds(ms: number): unknown }).fromMilliseconds(ms);

fn(`daysSince(${TIMESTAMP}): int`, 'Whole days from the timestamp to now (negative in the future).',
  (t: Date) => BigInt(Math.floor((clock.now.getTime() - t.getTime()) / DAY_MS)));
fn('daysSince(null): int', 'A missing timestamp ("never") counts as long ago: days since 1970-01-01.',
  () => BigInt(Math.floor(clock.now.getTime() / DAY_MS)));
fn(`hoursSince(${TIMESTAMP}): int`, 'Whole hours from the timestamp to now.',
  (t: Date) => BigInt(Math.floor((clock.now.getTime() - t.getTime()) / 3_600_000)));
fn('hoursSince(null): int', 'A missing timestamp counts as long ago: hours since 1970-01-01.',
  () => BigInt(Math.floor(clock.now.getTime() / 3_600_000)));
fn(`days(int): ${DURATION}`, 'A duration of n days: `now - days(30)`.', (n: bigint) => durationOf(Number(n) * DAY_MS));
fn(`hours(int): ${DURATION}`, 'A duration of n hours.', (n: bigint) => durationOf(Number(n) * 3_600_000));
fn(`ago(${DURATION}): ${TIMESTAMP}`, 'now minus the duration: `contact.lastActivityAt < ago(days(30))`.',
  (d: { valueOf(): number }) => new Date(clock.now.getTime() - d.valueOf()));
fn('hasTag(Contact, string): bool', 'The contact has the tag (same as `"x" in contact.tags`).',
  (c: { v: ContactView }, tag: string) => (c.v.tags ?? []).includes(tag));
fn('hasAnyTag(Contact, list<string>): bool', 'The contact has at least one of the tags.',
  (c: { v: ContactView }, tags: string[]) => tags.some((t) => (c.v.tags ?? []).includes(t)));
fn('isSubscribed(Contact): bool', 'Email consent is "subscribed" (same as `contact.consent.email == "subscribed"`).',
  (c: { v: ContactView }) => c.v.consent?.email === 'subscribed');
fn('localHour(Contact): int', 'Hour of day 0-23 now in the contact time zone (journey default when unset).',
  (c: { v: Record<string, unknown> }) => BigInt(localParts(c).hour));
fn('localDate(Contact): string', 'Today in the contact time zone as "YYYY-MM-DD".', (c: { v: Record<string, unknown> }) => {
  const p = localParts(c);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
});
fn('localDayOfWeek(Contact): int', 'Day of week now in the contact time zone, 0 = Sunday.',
  (c: { v: Record<string, unknown> }) => BigInt(localParts(c).weekday));
fn('localMonth(Contact): int', 'Month 1-12 now in the contact time zone.', (c: { v: Record<string, unknown> }) => BigInt(localParts(c).month));
fn('localDay(Contact): int', 'Day of month now in the contact time zone.', (c: { v: Record<string, unknown> }) => BigInt(localParts(c).day));
fn('isBirthdayToday(Contact): bool', 'Today (contact time zone) is the birthday; 29 Feb is celebrated on 28 Feb in non-leap years.',
  (c: { v: ContactView }) => {
    const m = c.v.birthdayMonth;
    const d = c.v.birthdayDay;
    if (m == null || d == null) return false;
    const p = localParts(c as unknown as { v: Record<string, unknown> });
    const day = m === 2 && d === 29 && !isLeap(p.year) ? 28 : d;
    return p.month === m && p.day === day;
  });

fn('containsAny(string, list<string>): bool', 'The text contains one of the words, ignoring case: `containsAny(message.subject, ["refund", "退款"])`.',
  (text: string, words: string[]) => {
    const t = text.toLowerCase();
    return words.some((w) => w !== '' && t.includes(w.toLowerCase()));
  });

/** CEL type of a declared trigger data field. */
const DATA_CEL_TYPES = { string: 'string', number: 'double', int: 'int', bool: 'bool' } as const satisfies Record<DataFieldType, string>;

/**
 * Declared trigger data for type checking: `trigger.data` (and `event.data` where the event is the
 * trigger, `entryEvent`) become a message with exactly these fields, so an undeclared field is
 * E_CEL_UNKNOWN_FIELD and `amount > "x"` is E_CEL_TYPE. Run time keeps the generic environment.
 */
export interface TypedData { fields: Record<string, DataFieldType>; entryEvent: boolean }

function buildEnvironment(typed?: TypedData): Environment {
  const env = new Environment({ limits: { maxAstNodes: CEL_LIMITS.maxAstNodes } });
  // The targets of `matches` after useLinearRegex (cel-limits.ts): same signatures, RE2 semantics, linear time.
  env.registerFunction('string.re2Matches(string): bool', (s: string, p: string) => re2Matches(s, p));
  env.registerFunction('re2Matches(string, string): bool', (s: string, p: string) => re2Matches(s, p));
  for (const spec of contactTypes) env.registerType(spec.name, { ctor: spec.ctor, fields: spec.fields });
  env.registerType(JourneySpec.name, { ctor: JourneySpec.ctor, fields: JourneySpec.fields });
  env.registerType(MessageSpec.name, { ctor: MessageSpec.ctor, fields: MessageSpec.fields });
  if (typed) {
    const data = makeType('TriggerData', Object.fromEntries(Object.entries(typed.fields).map(([k, t]) => [k, DATA_CEL_TYPES[t]])), {});
    const trigger = makeType('Trigger', { name: 'string', at: TIMESTAMP, data: 'TriggerData' }, { data });
    const event = typed.entryEvent ? makeType('Event', { name: 'string', at: TIMESTAMP, data: 'TriggerData' }, { data }) : EventSpec;
    for (const spec of [data, trigger, event]) env.registerType(spec.name, { ctor: spec.ctor, fields: spec.fields });
  } else {
    env.registerType(EventSpec.name, { ctor: EventSpec.ctor, fields: EventSpec.fields });
    env.registerType(TriggerSpec.name, { ctor: TriggerSpec.ctor, fields: TriggerSpec.fields });
  }
  for (const [name, type] of Object.entries(VARIABLES)) env.registerVariable(name, type);
  for (const f of FUNCTIONS) env.registerFunction(f.signature, HANDLERS.get(f.signature) as (...a: unknown[]) => unknown, { description: f.description });
  DurationCtor = (env.evaluate('duration("1s")') as object).constructor as unknown as { fromMilliseconds(ms: number): unknown };
  return env;
}

let envSingleton: Environment | undefined;
/** The shared environment (built once; building is the expensive part). */
export function celEnvironment(): Environment {
  return (envSingleton ??= buildEnvironment());
}

const typedEnvs = new Map<string, Environment>();
/** An environment for checking a journey with declared trigger data (cached per declaration; compile time only). */
export function typedEnvironment(typed: TypedData): Environment {
  const key = JSON.stringify([typed.entryEvent, Object.entries(typed.fields).sort()]);
  let env = typedEnvs.get(key);
  if (!env) {
    env = buildEnvironment(typed);
    if (typedEnvs.size >= 100) typedEnvs.clear();
    typedEnvs.set(key, env);
  }
  return env;
}

export interface CelBindings {
  contact: ContactView;
  event?: EventView;
  journey?: JourneyView & { params?: Record<string, unknown> };
  message?: MessageView;
  /** The event that started the run, with its declared data (ints as BigInt: see triggerView). */
  trigger?: EventView;
  now: Date;
}


/** The CEL activation for a set of bindings (lazy views; no copy of the contact). */
export function toActivation(b: CelBindings): Record<string, unknown> {
  const act: Record<string, unknown> = {
    contact: new ContactSpec.ctor(b.contact as unknown as Record<string, unknown>),
    now: b.now,
  };
  if (b.event) act.event = new EventSpec.ctor(b.event as unknown as Record<string, unknown>);
  if (b.journey) act.journey = new JourneySpec.ctor(b.journey as unknown as Record<string, unknown>);
  if (b.message) act.message = new MessageSpec.ctor(b.message as unknown as Record<string, unknown>);
  if (b.trigger) act.trigger = new TriggerSpec.ctor(b.trigger as unknown as Record<string, unknown>);
  return act;
}

/** Converts a CEL result to plain JSON-ish JS: BigInt -> number, Map -> object. */
export function fromCel(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), fromCel(x)]));
  if (Array.isArray(v)) return v.map(fromCel);
  if (v && typeof v === 'object' && 'v' in v && Object.getPrototypeOf(v) !== Object.prototype) return (v as { v: unknown }).v;
  return v;
}

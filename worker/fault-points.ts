/**
 * Test-only crash points for the fault suite (test/faults): `SOJOURN_FAULT_CRASH_AT` names a step
 * boundary at which the worker process kills itself with SIGKILL, as a power cut would, so the suite
 * hits each boundary exactly instead of hoping a timed `kill -9` lands there. Refused in production.
 *
 *   before:<activity>[#n][@template]  just before the n-th call (default 1st) of an activity, e.g. before:gateSend
 *   after:<activity>[#n][@template]   after it did its work, before Temporal learns the result, e.g. after:sendEmail
 *   smtp:sent[#n][@template]          inside sendEmail: SMTP accepted the message, the ledger is not yet marked
 *                                     (the documented at-most-once window; the retry records `unknown`)
 * `@template` counts only calls whose input names that template (gate and send inputs carry `templateId`),
 * so other runs' sends in flight do not take the crash meant for one step.
 *
 * `SOJOURN_FAULT_CRASH_FILE` names a file holding such a point instead, read at every call, so the
 * suite arms the next crash in a running worker (no restart just to arm it); empty means disarmed.
 */
import fs from 'node:fs';
import type { ActivityWrapper } from './build-worker';

export interface FaultPoints {
  activityWrapper?: ActivityWrapper;
  /** Passed to the messaging activity as its afterSmtp seam. */
  afterSmtp?: (input: { templateId: string }) => void;
}

export interface CrashPoint { when: 'before' | 'after' | 'smtp'; name: string; nth: number; template: string | null }

/** Parses `before:gateSend#2@welcome`; null for an empty value; throws on anything else. */
export function parseCrashPoint(raw: string | undefined): CrashPoint | null {
  if (!raw) return null;
  const m = /^(?:(before|after):([A-Za-z]+)|smtp:sent)(?:#(\d+))?(?:@([\w-]+))?$/.exec(raw.trim());
  if (!m) throw new Error(`SOJOURN_FAULT_CRASH_AT must be before:<activity>[#n][@template], after:<activity>[#n][@template] or smtp:sent[#n][@template], got "${raw}"`);
  const template = m[4] ?? null;
  if (m[1]) return { when: m[1] as 'before' | 'after', name: m[2], nth: Number(m[3] ?? 1), template };
  return { when: 'smtp', name: 'sent', nth: Number(m[3] ?? 1), template };
}

function templateOf(input: unknown): string | null {
  const t = (input as { templateId?: unknown } | null | undefined)?.templateId;
  return typeof t === 'string' ? t : null;
}

function crash(point: string): never {
  process.stderr.write(`[fault] SOJOURN_FAULT_CRASH_AT=${point}: SIGKILL\n`);
  process.kill(process.pid, 'SIGKILL');
  throw new Error('unreachable');
}

/** The crash points the environment asks for (none unless SOJOURN_FAULT_CRASH_AT/FILE is set outside production). */
export function faultPointsFromEnv(env: NodeJS.ProcessEnv = process.env): FaultPoints {
  const fixed = env.SOJOURN_FAULT_CRASH_AT;
  const file = env.SOJOURN_FAULT_CRASH_FILE;
  if (!fixed && !file) return {};
  if (env.NODE_ENV === 'production') throw new Error('SOJOURN_FAULT_CRASH_AT/FILE are test settings and must not be set in production');
  parseCrashPoint(fixed); // refuse a malformed value at start-up
  const current = (): string => {
    if (fixed) return fixed;
    try {
      return fs.readFileSync(file!, 'utf8').trim();
    } catch {
      return '';
    }
  };
  const hits = new Map<string, number>();
  /** The armed point (its raw text) when it names this place and this is its n-th hit; null otherwise. */
  const due = (when: CrashPoint['when'], name: string, input: unknown): string | null => {
    const raw = current();
    const point = parseCrashPoint(raw);
    if (!point || point.when !== when || point.name !== name) return null;
    if (point.template !== null && templateOf(input) !== point.template) return null;
    const n = (hits.get(raw) ?? 0) + 1;
    hits.set(raw, n);
    if (n !== point.nth) return null;
    // An armed file fires once across all workers: the first to get here takes it (rename is atomic),
    // so the worker that takes over the killed one's work does not die at the same point too.
    if (!fixed) {
      try {
        fs.renameSync(file!, `${file}.fired-${process.pid}`);
      } catch {
        return null;
      }
    }
    return raw;
  };
  // Sends of other runs between their claim and the relay's answer: a kill there is the crash window
  // (recorded `unknown`), which has its own point (smtp:sent). A boundary crash waits until none is
  // in flight on this worker (at most 10 s), so each point tests its own boundary and nothing else.
  let sendsInFlight = 0;
  const crashAtBoundary = async (point: string): Promise<never> => {
    for (const deadline = Date.now() + 10_000; sendsInFlight > 0 && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 5));
    return crash(point);
  };
  const activityWrapper: ActivityWrapper = (name, fn) => (async (...args: never[]) => {
    const before = due('before', name, args[0]);
    if (before) await crashAtBoundary(before);
    const isSend = name === 'sendEmail';
    if (isSend) sendsInFlight++;
    let result;
    try {
      result = await fn(...args);
    } finally {
      if (isSend) sendsInFlight--;
    }
    const after = due('after', name, args[0]);
    if (after) await crashAtBoundary(after);
    return result;
  }) as typeof fn;
  return {
    activityWrapper,
    afterSmtp: (input) => {
      const armed = due('smtp', 'sent', input);
      if (armed) crash(armed);
    },
  };
}

/**
 * Shared rules of the fuzz and abuse suite: each case runs under a stopwatch; a case that throws,
 * answers 5xx or hangs (spends more than `MAX_CASE_MS` of this process's CPU time: CPU, not wall
 * time, so a busy shared machine does not count as a hang) is a failure, collected (not thrown) so
 * one run reports every failure with its input.
 */
export const MAX_CASE_MS = 1000;

export interface FuzzTally { cases: number; slowest: number; failures: string[] }

export function tally(): FuzzTally {
  return { cases: 0, slowest: 0, failures: [] };
}

const show = (x: unknown) => {
  const s = typeof x === 'string' ? JSON.stringify(x) : Buffer.isBuffer(x) ? `<${x.length} bytes>` : JSON.stringify(x) ?? String(x);
  return s.length > 300 ? `${s.slice(0, 300)}... (${s.length} characters)` : s;
};

/** Runs one case; records a failure when it throws or is too slow. `check` returns a failure text or null. */
export async function runCase<T>(t: FuzzTally, input: unknown, run: () => Promise<T> | T, check: (r: T) => string | null | Promise<string | null>): Promise<void> {
  t.cases++;
  const cpu = process.cpuUsage();
  let result: T;
  try {
    result = await run();
  } catch (err) {
    t.failures.push(`threw ${(err as Error)?.name}: ${(err as Error)?.message?.slice(0, 200)} at ${(err as Error)?.stack?.split('\n').slice(1, 4).map((l) => l.trim()).join(' < ')} for ${show(input)}`);
    return;
  }
  const used = process.cpuUsage(cpu);
  const ms = (used.user + used.system) / 1000;
  t.slowest = Math.max(t.slowest, ms);
  if (ms > MAX_CASE_MS) t.failures.push(`took ${Math.round(ms)} ms for ${show(input)}`);
  const bad = await check(result);
  if (bad) t.failures.push(`${bad} for ${show(input)}`);
}

export function report(name: string, t: FuzzTally, extra = ''): string {
  return `fuzz ${name}: ${t.cases} cases, ${t.failures.length} failures, slowest ${Math.round(t.slowest)} ms${extra ? `; ${extra}` : ''}`;
}

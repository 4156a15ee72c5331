/**
 * The small version of bench/load.bench.ts, to keep its code path alive: a few sign-ups and events a
 * second through the real API of `sojourn serve` (its own process) on the local stack. Asserts
 * behaviour, not speed: every request is answered, nothing is a 5xx except a 503 with Retry-After,
 * every accepted sign-up gets its welcome email exactly once, and the server's memory is measured.
 */
import { offerLoad, startLoadStack, type LoadStack } from '../../bench/load.bench';

jest.setTimeout(300_000);

describe('sign-ups and events at a fixed rate through the real API', () => {
  let stack: LoadStack;
  beforeAll(async () => {
    stack = await startLoadStack({ log: () => undefined });
  }, 240_000);
  afterAll(async () => stack?.stop(), 60_000);

  it('answers every request, sends every accepted sign-up one welcome email, and reports memory', async () => {
    const r = await offerLoad(stack, { rate: 2, seconds: 5, settleSeconds: 120, requestTimeoutMs: 120_000 });
    console.log(`load (small): ${JSON.stringify({ status: r.status, welcomes: r.welcomes, accepted: r.accepted, memoryMB: Math.round(r.memory.settledMB) })}`);
    expect(r.offered.signups).toBe(10);
    const signupStatuses = Object.keys(r.status.signup).map(Number);
    // Answered (no timeout, no connection error); a 5xx only as load shedding with Retry-After.
    expect(signupStatuses.every((s) => s === 201 || s === 503)).toBe(true);
    expect(Object.keys(r.status.event).map(Number).every((s) => s === 202 || s === 200 || s === 503)).toBe(true);
    expect(r.shedWithRetryAfter).toBe((r.status.signup['503'] ?? 0) + (r.status.event['503'] ?? 0));
    expect(r.accepted).toBeGreaterThan(0);
    expect(r.welcomes.delivered).toBe(r.accepted);
    expect(r.welcomes.duplicates).toBe(0);
    expect(r.memory.startMB).toBeGreaterThan(20);
  });
});

/**
 * The test setting SOJOURN_TIME_SCALE: deploys the shipped journeys with every relative duration
 * (waits, wait_for timeouts, goal windows) multiplied by a factor, so the end-to-end test runs a
 * two-day wait in about two seconds with the real dev server (scale 1/86400: 1 day -> 1 s).
 * Local times of day, birthdays, quiet hours, entry periods and frequency windows are not scaled.
 * A scaled plan has its own content hash, so it never passes for the production version.
 */
import { planHash } from '../rules/plan-hash';
import type { JourneyPlan, Step } from '../rules/plan';
import { scaleStep } from '../rules/step-kinds';

export function parseTimeScale(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 1;
  const [a, b] = raw.split('/').map(Number);
  const v = b === undefined ? a : a / b;
  if (!Number.isFinite(v) || v <= 0 || v > 1) throw new Error(`SOJOURN_TIME_SCALE must be a number in (0, 1] such as 0.001 or 1/86400, got "${raw}"`);
  return v;
}

export function scalePlan(plan: JourneyPlan, factor: number): JourneyPlan {
  if (factor === 1) return plan;
  const scale = (ms: number) => Math.max(1000, Math.round(ms * factor));
  const steps: Record<string, Step> = {};
  for (const [id, s] of Object.entries(plan.steps)) steps[id] = scaleStep(s, scale);
  const scaled: JourneyPlan = {
    ...plan,
    name: `${plan.name} (time scale ${factor})`,
    steps,
    goal: plan.goal?.withinMs ? { ...plan.goal, withinMs: scale(plan.goal.withinMs) } : plan.goal,
  };
  return { ...scaled, hash: planHash(scaled) };
}

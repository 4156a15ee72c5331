/**
 * Prometheus metrics (prom-client), one registry per process: the HTTP server serves it at `/metrics`,
 * a worker-only process on its health port. Labels are small closed sets (route patterns, activity
 * names, outcomes, reasons, journey ids): never a contact id, an address or a URL with a token.
 * What to alert on is in the README ("Operations").
 */
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'sojourn_' });

export const httpRequests = new Counter({
  name: 'sojourn_http_requests_total', help: 'HTTP requests answered, by method, route pattern and status code.',
  labelNames: ['method', 'route', 'status'] as const, registers: [registry],
});
export const httpDuration = new Histogram({
  name: 'sojourn_http_request_duration_seconds', help: 'HTTP request latency by route pattern.',
  labelNames: ['route'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers: [registry],
});
export const activityDuration = new Histogram({
  name: 'sojourn_activity_duration_seconds', help: 'Activity execution time by activity and result (ok or error: a retry follows).',
  labelNames: ['activity', 'result'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: [registry],
});
export const gateDecisions = new Counter({
  name: 'sojourn_gate_decisions_total', help: 'Gate decisions before a send: send, defer or skip, with the reason.',
  labelNames: ['decision', 'reason'] as const, registers: [registry],
});
export const sends = new Counter({
  name: 'sojourn_sends_total', help: 'Send attempts by outcome: sent, duplicate (ledger key seen), unknown (crash window), failed (permanent).',
  labelNames: ['outcome'] as const, registers: [registry],
});
export const runsStarted = new Counter({
  name: 'sojourn_runs_started_total', help: 'Journey entries asked of Temporal, by journey and outcome (started, delivered, already_entered).',
  labelNames: ['journey', 'outcome'] as const, registers: [registry],
});
export const runsEnded = new Counter({
  name: 'sojourn_runs_ended_total', help: 'Journey runs ended, by journey and outcome (completed, exited, converted, holdout).',
  labelNames: ['journey', 'outcome'] as const, registers: [registry],
});
export const eventsIngested = new Counter({
  name: 'sojourn_events_ingested_total', help: 'Events through the ingest, by name and result (stored, duplicate; dispatched or left for the outbox).',
  labelNames: ['name', 'result'] as const, registers: [registry],
});

/** Records an activity's duration, and what its result says about gate decisions and sends. */
export function observeActivity(name: string, seconds: number, result: unknown, failed: boolean): void {
  activityDuration.observe({ activity: name, result: failed ? 'error' : 'ok' }, seconds);
  if (failed || typeof result !== 'object' || result === null) return;
  const r = result as { outcome?: unknown; reason?: unknown; status?: unknown };
  if (name === 'gateSend' && typeof r.outcome === 'string') gateDecisions.inc({ decision: r.outcome, reason: typeof r.reason === 'string' ? r.reason : '' });
  if (name === 'sendEmail' && typeof r.status === 'string') sends.inc({ outcome: r.status });
}

/** Wraps an activity so every call is observed (used by buildWorker for all activities). */
export function withActivityMetrics<F extends (...args: never[]) => Promise<unknown>>(name: string, fn: F): F {
  return (async (...args: Parameters<F>) => {
    const start = process.hrtime.bigint();
    const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
    try {
      const result = await fn(...args);
      observeActivity(name, seconds(), result, false);
      return result;
    } catch (err) {
      observeActivity(name, seconds(), undefined, true);
      throw err;
    }
  }) as F;
}

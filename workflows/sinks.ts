/**
 * Sinks: what the journey workflow tells its worker outside history (Temporal sinks are not recorded
 * and not called again on replay), for metrics only. worker/build-worker.ts injects them.
 */
import { proxySinks, type Sinks } from '@temporalio/workflow';

export interface SojournSinks extends Sinks {
  metrics: {
    /** A run ended with this outcome (lib/metrics.ts sojourn_runs_ended_total). */
    runEnded(journeyId: string, outcome: string): void;
  };
}

export const { metrics } = proxySinks<SojournSinks>();

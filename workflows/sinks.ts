/**
 * Sinks: what the journey workflow tells its worker outside history (Temporal sinks are not recorded
 * and not called again on replay): metrics, and the facts of reports (a run entered, took a split
 * branch, ended), which the worker stores under natural keys (data/journey-stat-facts.ts), so a sink
 * called again after a retried workflow task counts once. worker/build-worker.ts injects them.
 */
import { proxySinks, type Sinks } from '@temporalio/workflow';

export interface SojournSinks extends Sinks {
  metrics: {
    /** A run ended with this outcome (lib/metrics.ts sojourn_runs_ended_total). */
    runEnded(journeyId: string, outcome: string): void;
  };
  report: {
    /** A new entry (not a continue-as-new). */
    runEntered(fact: RunFact): void;
    /** The branch the run took at a split. */
    splitChosen(fact: RunFact & { stepId: string; branch: string }): void;
    /** How the run ended, at which step, in which split branches. */
    runEnded(fact: RunFact & { outcome: string; reason: string; stepId: string | null; variants: string[] }): void;
  };
}

/** Ids and times only (no PII). `entryKey` = workflow id @ first run id: one per entry. */
export interface RunFact { journeyId: string; version: number; entryKey: string; at: string }

export const { metrics, report } = proxySinks<SojournSinks>();

/**
 * The Temporal UI's list of a journey's runs: the workflows page of the namespace filtered by the
 * `SojournJourney` search attribute, the filter the README and `npm start` tell ops to use.
 */

/** The visibility query selecting one journey's runs. */
export function journeyRunsQuery(journeyId: string): string {
  return `SojournJourney = ${JSON.stringify(journeyId)}`;
}

/** The UI URL of a journey's runs, or null when no UI is configured (TEMPORAL_UI_URL). */
export function temporalUiJourneyUrl(uiBase: string | null | undefined, namespace: string, journeyId: string): string | null {
  if (!uiBase) return null;
  return `${uiBase}/namespaces/${encodeURIComponent(namespace)}/workflows?query=${encodeURIComponent(journeyRunsQuery(journeyId))}`;
}

/**
 * The Temporal SDK's own log lines, into the product log as one JSON line each (no stack). An activity
 * that failed because the database is unreachable is not logged per retry: the dependency health log
 * says once that the database is down and once that it is back.
 */
import { DefaultLogger, type LogEntry } from '@temporalio/worker';
import type { Logger } from 'pino';
import { isDatabaseUnavailable, shortReason, type DependencyHealth } from '../lib/dependency-health';

export function createRuntimeLogger(log: Logger, health: DependencyHealth): DefaultLogger {
  return new DefaultLogger('WARN', (entry: LogEntry) => {
    const meta = (entry.meta ?? {}) as Record<string, unknown>;
    const error = meta.error;
    if (error !== undefined && isDatabaseUnavailable(error)) {
      health.down('database', shortReason(error));
      return;
    }
    const fields: Record<string, unknown> = { source: 'temporal-sdk' };
    for (const k of ['activityType', 'workflowType', 'workflowId', 'attempt', 'taskQueue']) if (meta[k] !== undefined) fields[k] = meta[k];
    if (error !== undefined) fields.error = shortReason(error);
    if (entry.level === 'ERROR') log.error(fields, entry.message);
    else log.warn(fields, entry.message);
  });
}

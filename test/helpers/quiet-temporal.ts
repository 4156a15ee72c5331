// Jest setup for tests that run Temporal workers: SDK logs at WARN, so the report stays readable.
import { DefaultLogger, Runtime } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger(process.env.TEMPORAL_LOG_LEVEL === 'DEBUG' ? 'DEBUG' : 'WARN') });

/** Workflow entry points registered by the worker (worker/build-worker.ts bundles this file). */
import './sandbox-fixes';
export { journey } from './journey';
export { audienceScan } from './audience-scan';
export { birthdayScan } from './birthday-scan';
export { classifyScan } from './classify-scan';
export { handWrittenSendWaitSend, noopCeiling } from './bench-baseline';

/**
 * The audience scan's progress query (workflows/audience-scan.ts), in a file of its own so clients (the
 * CLI's status, the audience benchmark) import it without the workflow's activities.
 */
import { defineQuery } from '@temporalio/workflow';

/** How far a scan is: pages and contacts so far over all its runs, and where it continues. */
export interface ScanProgress {
  journeyId: string;
  version: number | null;
  scanAt: string;
  pages: number;
  scanned: number;
  matched: number;
  started: number;
  alreadyEntered: number;
  /** The last contact id read (the next page starts after it); null before the first page. */
  afterId: string | null;
  done: boolean;
}

/** Answered by the scan's latest run (the workflow id `scan/<journey>` follows continue-as-new). */
export const scanProgressQuery = defineQuery<ScanProgress>('scanProgress');

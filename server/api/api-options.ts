/**
 * The options every API route plugin receives (server/api/index.ts registers them), and the contact as
 * the API returns it; a file of its own so the route files need not import the plugin that lists them.
 */
import type { Client } from '@temporalio/client';
import type { Config } from '../../lib/config';
import type { WebhookDeps } from '../../data/webhooks';
import type { Contacts } from '../../data/contacts';
import type { ImportJobTiming } from '../../data/import-jobs';
import type { ContactDoc } from '../../data/contact-model';
import type { Ingest } from '../../engine/ingest';
import { toContactView } from '../../data/contact-view';
import type { RuleSetPlan, SegmentPlan } from '../../rules/plan';

export interface ApiOptions {
  config: Config;
  /**
   * The one door for events (engine/ingest.ts): stores each event once, then dispatches it. Default: an
   * ingest without a dispatcher (events wait in the outbox for `sojourn serve`).
   */
  ingest?: Ingest['ingest'];
  /** Named segments (compiled rules) for POST /v1/contacts/search { segment }. */
  segments?: Record<string, SegmentPlan>;
  /** Contact rule sets re-run on a contact that a PATCH changed (a `vip` or `complaint` tag counts at once). */
  classifyRuleSets?: RuleSetPlan[];
  /** Repository override (tests); default built from config. */
  contacts?: Contacts;
  /** Temporal client for the journey routes (run status, step counts, schedules); absent: those answer 503. */
  temporal?: Client | null;
  /** Webhook fan-out and delivery settings (server/api/webhooks-routes.ts). */
  webhooks?: WebhookDeps;
  /** Import jobs: spool folder, heartbeat and take-over timing, window size (data/import-jobs.ts; tests shorten them). */
  importJobs?: ImportJobTiming & { spoolDir?: string };
  /** The clock of reports' day windows (the scenario harness gives its simulated time); default the wall clock. */
  now?: () => Date;
}

/** What the API returns for a contact: the view, plus the address as entered; phones without digits. */
export function apiContact(doc: ContactDoc) {
  return {
    ...toContactView(doc),
    email: doc.email ?? null,
    emailFlags: doc.emailFlags,
    doubleOptIn: doc.doubleOptIn?.state ?? 'none',
    phones: (doc.phones ?? []).map((p) => ({ type: p.type, country: p.country, source: p.source })),
    updatedAt: doc.updatedAt,
  };
}

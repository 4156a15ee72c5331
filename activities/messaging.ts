/**
 * The messaging activity: render a template for a contact and send it over SMTP exactly once per
 * ledger key (`${workflowId}:${stepId}:${iteration}`).
 *
 * Exactly-once protocol (docs/delivery.md has the full reasoning):
 *   1. insert the ledger row `pending` under the unique key (a duplicate insert means an earlier attempt);
 *   2. claim the SMTP hand-off with an insert under `${key}#${generation}` (only one attempt can), then
 *      stamp `smtpStartedAt`; every ledger read and write is by `_id` (data/send-ledger.ts); the claim,
 *      its stamp, the release and the completion wait out a database outage (LEDGER_PATIENCE_MS) instead
 *      of failing the attempt, so an outage alone never turns a send into `unknown`;
 *   3. SMTP (heartbeating, so a worker that dies here is noticed within the heartbeat timeout); 4. mark `sent`.
 * A retry that finds `pending` with the claim taken (or `smtpStartedAt` set) cannot know whether the earlier attempt's
 * message went out (it crashed between 3 and 4), so it closes the row as `unknown` with a note and
 * does not resend: at-most-once in that crash window rather than a duplicate email. The run records
 * the send as `unknown`, so ops can count and look at these.
 *
 * Failures (docs/engine.md, "Retries"): SMTP 5xx returns a `failed` value and is recorded as a bounce
 * with the relay's reason (hard, or a message-level refusal for 5.6.x/5.7.x); 4xx and connection
 * failures throw a retryable error until `retryWindowMs` after the first attempt (default 24 h), then
 * the send is given up as a soft bounce, returned as `failed`, never a failed workflow.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { retryWhileUnavailable, type DependencyHealth } from '../lib/dependency-health';
import pino from 'pino';
import type { Config } from '../lib/config';
import { claimLedgerRow, closePendingRow, LEDGER_PATIENCE_MS, findLedgerRow, insertLedgerRow, ledgerClaimedAt, releaseLedgerClaim, updateLedgerRow, type SendDoc } from '../data/send-ledger';
import type { SmtpBounce } from '../mail/bounces';
import { buildListHeaders, messageIdFor } from '../mail/headers';
import { EmailRenderer, rendererOptionsFrom, type TemplateContact } from '../mail/render';
import { TemplateError } from '../mail/templates';
import { classifySmtpError, createSmtpTransport, type MailTransport } from '../mail/transport';

export interface SendEmailInput {
  /** Ledger key: `${workflowId}:${stepId}:${iteration}` (run-independent, so a reset run does not resend). */
  key: string;
  workflowId: string;
  contactId: string;
  journeyId: string;
  stepId: string;
  templateId: string;
  vars?: Record<string, unknown>;
  /** The run's trigger event with its declared data (`{{trigger.data.amount}}` in templates). */
  trigger?: { name: string; data: Record<string, unknown> };
  /** The run's journey version and split branch (`step:branch`), kept on the ledger row for reports. */
  version?: number;
  variant?: string | null;
  /** The workflow's time of the send (ISO), the day reports count it on. */
  at?: string;
  /** Attempts made before this activity's first: the local first attempt (decision 46). Counted in the ledger's attempt numbers. */
  priorAttempts?: number;
}

/**
 * What the workflow branches on. Only SMTP 4xx / connection failures are thrown (and retried).
 * A last-mile safety check (no address, hard-bounced, unsubscribed from marketing) returns `failed`
 * with reason `skipped: <why>` and smtpCode null; the ledger row is `skipped`. The engine's gate
 * normally catches these before the send.
 */
export type SendResult =
  | { status: 'sent'; messageId: string }
  | { status: 'duplicate'; messageId: string }
  | { status: 'unknown'; messageId: string; reason: string }
  | { status: 'failed'; permanent: true; reason: string; smtpCode: number | null };

export type SkipReason = 'no-recipient' | 'no-address' | 'unsubscribed' | 'undeliverable';

/** The contact as the sender needs it: the address (for the To header only) plus personal view fields. */
export type Recipient = TemplateContact & {
  email: string | null;
  emailStatus?: string | null;
  consent?: { email?: string | null } | null;
};

export interface MessagingDeps {
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'mailDomain' | 'publicBaseUrl' | 'secret' | 'postalAddress' | 'adPrefix'>;
  transport?: MailTransport;
  templatesDir?: string;
  renderer?: EmailRenderer;
  /** Loads the recipient; the engine wires it to the contacts data layer. Null when the contact is gone. */
  loadRecipient(contactId: string): Promise<Recipient | null>;
  /** Test seam: runs after SMTP accepted the message and before the ledger is completed (crash simulation). */
  afterSmtp?: (input: SendEmailInput) => void | Promise<void>;
  /** Records a refusal as a bounce on the contact (mail/bounces.ts recordSmtpBounce); absent, only the ledger row says it. */
  onBounce?: (row: SendDoc, bounce: SmtpBounce) => Promise<void>;
  /** How long after the first attempt temporary SMTP failures are still retried (default 24 h). */
  retryWindowMs?: number;
  /** Told when the relay refuses connections and when it accepts again (the log says it once each way). */
  health?: DependencyHealth;
  logger?: pino.Logger;
  now?: () => Date;
}

const UNDELIVERABLE = new Set(['bounced', 'invalid']);

/** Ledger fields a new row starts without (the model's defaults, written explicitly by the keyed insert). */
const nullFields = { templateVersion: null, smtpStartedAt: null, sentAt: null, smtpCode: null, error: null, note: null, bounceType: null, bouncedAt: null, bounceCode: null, releases: 0 };

function skipped(reason: SkipReason): SendResult {
  return { status: 'failed', permanent: true, reason: `skipped: ${reason}`, smtpCode: null };
}

function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null; // called outside a Temporal activity (tests, CLI)
  }
}

function currentAttempt(input: SendEmailInput): number {
  return (activityContext()?.info.attempt ?? 1) + (input.priorAttempts ?? 0);
}

/**
 * Heartbeats every 2 s while `work` runs (inside an activity task), so a worker that dies is noticed within
 * the heartbeat timeout. A local activity has no heartbeat: the workflow task's timeout covers it.
 */
async function heartbeating<T>(work: Promise<T>): Promise<T> {
  const ctx = activityContext();
  if (!ctx || ctx.info.isLocal) return work;
  const timer = setInterval(() => ctx.heartbeat(), 2_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}

/** 5.6.x (content) and 5.7.x (policy) refuse the message, not the address: no bounce status for the contact. */
function refusesMessageOnly(reason: string): boolean {
  return /\b5\.[67]\.\d{1,3}\b/.test(reason);
}

const DAY_MS = 86_400_000;

/** Builds the messaging activities. */
export function createMessagingActivities(deps: MessagingDeps) {
  const log = deps.logger ?? pino({ name: 'messaging', level: process.env.LOG_LEVEL ?? 'info' });
  const transport = deps.transport ?? createSmtpTransport(deps.config.smtpUrl);
  const renderer = deps.renderer ?? new EmailRenderer({ ...rendererOptionsFrom(deps.config, deps.templatesDir), adPrefix: deps.config.adPrefix });
  const clock = deps.now ?? (() => new Date());

  /** Result for an existing ledger row, or null when the row is pending and unclaimed (safe to send). */
  async function resolveExisting(row: SendDoc, attempt: number): Promise<SendResult | null> {
    switch (row.status) {
      case 'sent':
        return { status: 'duplicate', messageId: row.messageId };
      case 'unknown':
        return { status: 'unknown', messageId: row.messageId, reason: row.note ?? 'outcome unknown' };
      case 'failed':
        return { status: 'failed', permanent: true, reason: row.error ?? 'failed', smtpCode: row.smtpCode };
      case 'skipped':
        return skipped((row.error as SkipReason | null) ?? 'no-recipient');
      case 'pending': {
        const started = await ledgerClaimedAt(row);
        if (!started) return null;
        // An earlier attempt claimed the SMTP hand-off and never completed: it may have been delivered.
        const note = `outcome unknown: attempt ${row.attempt} started SMTP at ${started.toISOString()} and did not complete; not resent (at-most-once)`;
        const now = await closePendingRow(row.key, { status: 'unknown', attempt, note });
        if (now && now.status !== 'unknown') return resolveExisting(now, attempt);
        log.warn({ key: row.key, contactId: row.contactId, attempt }, 'send outcome unknown after a crash; closed as unknown without resending');
        return { status: 'unknown', messageId: row.messageId, reason: note };
      }
    }
  }

  async function sendEmail(input: SendEmailInput): Promise<SendResult> {
    const attempt = currentAttempt(input);
    const ids = { key: input.key, journeyId: input.journeyId, stepId: input.stepId, contactId: input.contactId, templateId: input.templateId, attempt };
    const existing = await findLedgerRow(input.key);
    if (existing) {
      const r = await resolveExisting(existing, attempt);
      if (r) return r;
    }

    const messageId = messageIdFor(input.key, deps.config.mailDomain);
    let template;
    try {
      template = renderer.template(input.templateId);
    } catch (err) {
      if (err instanceof TemplateError) throw ApplicationFailure.nonRetryable(err.message, 'TemplateError');
      throw err;
    }
    const base = {
      key: input.key, workflowId: input.workflowId, contactId: input.contactId, journeyId: input.journeyId, stepId: input.stepId,
      templateId: input.templateId, marketing: template.marketing, messageId, createdAt: clock(), attempt,
      version: input.version ?? null, variant: input.variant ?? null,
    };

    const recipient = await deps.loadRecipient(input.contactId);
    const skip: SkipReason | null = !recipient ? 'no-recipient'
      : !recipient.email ? 'no-address'
      : UNDELIVERABLE.has(recipient.emailStatus ?? '') ? 'undeliverable'
      : template.marketing && (recipient.consent?.email === 'unsubscribed' || recipient.emailStatus === 'complained') ? 'unsubscribed'
      : null;
    if (skip || !recipient?.email) {
      const reason = skip ?? 'no-address';
      const inserted = await insertLedgerRow({ ...nullFields, ...base, status: 'skipped', error: reason });
      const row = inserted ? null : await findLedgerRow(input.key);
      log.info({ ...ids, reason }, 'send skipped');
      return row && row.status !== 'skipped' ? ((await resolveExisting(row, attempt)) ?? skipped(reason)) : skipped(reason);
    }

    const { email, emailStatus: _s, consent: _c, ...contact } = recipient;
    let rendered;
    try {
      rendered = renderer.render(input.templateId, { contact, email, vars: input.vars ?? {}, ...(input.trigger ? { trigger: input.trigger } : {}) }, { contactId: input.contactId, sendKey: input.key, now: clock() });
    } catch (err) {
      if (err instanceof TemplateError) throw ApplicationFailure.nonRetryable(err.message, 'TemplateError');
      throw err;
    }

    // 1. The pending row, before any SMTP traffic. A duplicate means another attempt got here first.
    const pending = { ...nullFields, ...base, templateVersion: rendered.version, status: 'pending' as const };
    const inserted = await insertLedgerRow(pending);
    // 2. Claim the SMTP hand-off: an insert under `${key}#${generation}`, which exactly one attempt wins.
    const claim = await claimLedgerRow(input.key, clock(), attempt, LEDGER_PATIENCE_MS, inserted ? { ...pending, _id: input.key } as SendDoc : undefined);
    if (!claim.won) {
      const row = claim.previous;
      const r = row ? await resolveExisting(row, attempt) : null;
      if (r) return r;
      throw ApplicationFailure.retryable(`send ledger row ${input.key} could not be claimed`, 'SendLedgerContention');
    }

    // 3. SMTP.
    try {
      await transport.sendMail({
        from: deps.config.mailFrom,
        to: email,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        messageId,
        date: clock(),
        headers: buildListHeaders({
          marketing: rendered.marketing, journeyId: input.journeyId, templateId: input.templateId, mailDomain: deps.config.mailDomain,
          unsubscribeUrl: rendered.unsubscribeUrl, unsubscribeMailto: rendered.unsubscribeMailto,
        }) as unknown as Record<string, string>,
      });
    } catch (err) {
      const failure = classifySmtpError(err, email);
      const firstTriedAt = activityContext()?.info.scheduledTimestampMs ?? Date.now();
      const givingUp = failure.kind === 'transient' && Date.now() - firstTriedAt >= (deps.retryWindowMs ?? DAY_MS);
      if (failure.kind === 'permanent' || givingUp) {
        const reason = givingUp ? `gave up after ${attempt} attempts over ${Math.round((Date.now() - firstTriedAt) / 60_000)} min: ${failure.reason}` : failure.reason;
        const type = givingUp ? 'soft' : refusesMessageOnly(failure.reason) ? null : 'hard';
        await updateLedgerRow(input.key, { status: 'failed', smtpCode: failure.smtpCode, error: reason });
        const row = await findLedgerRow(input.key);
        if (row && type) await deps.onBounce?.(row, { type, code: failure.smtpCode === null ? null : String(failure.smtpCode), reason });
        log.warn({ ...ids, smtpCode: failure.smtpCode, bounce: type }, givingUp ? 'send given up after the retry window' : 'send refused permanently');
        return { status: 'failed', permanent: true, reason, smtpCode: failure.smtpCode };
      }
      // Not delivered (4xx, connection refused): release the claim so the retry sends. Unknown: keep it (no resend).
      if (failure.kind === 'transient') await retryWhileUnavailable(() => releaseLedgerClaim(claim.previous!, { smtpCode: failure.smtpCode, error: failure.reason }), LEDGER_PATIENCE_MS);
      else await updateLedgerRow(input.key, { smtpCode: failure.smtpCode, error: failure.reason });
      if (failure.smtpCode === null) deps.health?.down('smtp relay', failure.reason);
      log.info({ ...ids, smtpCode: failure.smtpCode, kind: failure.kind }, 'send deferred, will retry');
      // Benign: the SDK logs it at debug, not as a warning with a stack on every retry.
      throw ApplicationFailure.create({
        message: `SMTP ${failure.kind} failure: ${failure.reason}`, type: failure.kind === 'transient' ? 'SmtpTransientError' : 'SmtpUnknownOutcome',
        category: ApplicationFailureCategory.BENIGN,
      });
    }
    deps.health?.up('smtp relay');
    await deps.afterSmtp?.(input);
    // 4. Complete. The message went out: wait out a database outage rather than leave a retry to guess.
    const sentAt = clock();
    await retryWhileUnavailable(() => updateLedgerRow(input.key, { status: 'sent', sentAt, smtpCode: 250, error: null }), LEDGER_PATIENCE_MS);
    log.info(ids, 'email sent');
    return { status: 'sent', messageId };
  }

  return { sendEmail: (input: SendEmailInput) => heartbeating(sendEmail(input)) };
}

export type MessagingActivities = ReturnType<typeof createMessagingActivities>;

/**
 * `loadRecipient` over the Contacts data layer: the address for the To header plus the contact view.
 * Erased contacts have no recipient.
 */
export function dataLayerRecipientLoader(): (contactId: string) => Promise<Recipient | null> {
  return async (contactId) => {
    const { getContact } = await import('../data/contacts');
    const { toContactView } = await import('../data/contact-view');
    const doc = await getContact(contactId);
    if (!doc || doc.erasedAt) return null;
    return { ...toContactView(doc), email: doc.email ?? null };
  };
}

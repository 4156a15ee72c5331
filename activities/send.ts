/**
 * The send activity the workflow calls. Production and tests use Delivery's `sendEmail`
 * (activities/messaging.ts: render, ledger, SMTP). `createLedgerOnlySendActivities` is the stand-in the
 * engine issue allows: same interface, it only records the intended message in the send ledger
 * (status 'sent', no SMTP), which is what the bench and engine tests count.
 */
import { createHash } from 'node:crypto';
import { insertLedgerRow } from '../data/send-ledger';
import type { SendEmailInput, SendResult } from './types';

export interface SendActivities {
  sendEmail(input: SendEmailInput): Promise<SendResult>;
}

export function createLedgerOnlySendActivities(deps: { isMarketing?: (templateId: string) => boolean; mailDomain?: string; clock?: () => Date } = {}): SendActivities {
  const isMarketing = deps.isMarketing ?? (() => true);
  const clock = deps.clock ?? (() => new Date());
  return {
    async sendEmail(input) {
      const now = clock();
      const messageId = `<${createHash('sha256').update(input.key).digest('hex').slice(0, 32)}@${deps.mailDomain ?? 'sojourn.local'}>`;
      // An insert keyed by the ledger key: the duplicate key is the "already sent" answer.
      const inserted = await insertLedgerRow({
        key: input.key, workflowId: input.workflowId, contactId: input.contactId, journeyId: input.journeyId,
        stepId: input.stepId, templateId: input.templateId, templateVersion: null, marketing: isMarketing(input.templateId),
        status: 'sent', messageId, createdAt: now, sentAt: now, attempt: 1, smtpStartedAt: null, smtpCode: null, error: null,
        version: input.version ?? null, variant: input.variant ?? null,
        note: 'ledger only (no SMTP)',
      });
      return inserted ? { status: 'sent' as const, messageId } : { status: 'duplicate' as const, messageId };
    },
  };
}

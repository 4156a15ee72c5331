/**
 * The owner's email about a new task, sent through Delivery's send path (activities/messaging.ts): the
 * same ledger (exactly once under `${task key}:owner`, at most once in the SMTP crash window), renderer,
 * relay and failure handling as every email. Only the recipient differs: the task's owner instead of the
 * contact, so the ledger row still names the contact the task is about (contactId), while the message
 * goes to the owner's address. The template (`owner_task`, transactional) gets the owner as `contact`,
 * and `vars.task` (id, title, why, due, url) and `vars.customer` (id, firstName, lastName, name).
 * Bounces of the owner's address are not recorded on the contact.
 */
import type { Config } from '../lib/config';
import { EmailRenderer, rendererOptionsFrom } from '../mail/render';
import { createSmtpTransport, type MailTransport } from '../mail/transport';
import { createMessagingActivities } from './messaging';
import type { OwnerEmailNotifier } from './task-step';

/** The template of the owner's email. */
export const OWNER_TASK_TEMPLATE = 'owner_task';

export interface OwnerEmailDeps {
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'mailDomain' | 'publicBaseUrl' | 'secret' | 'postalAddress' | 'adPrefix' | 'sendRetryHours'>;
  transport?: MailTransport;
  templatesDir?: string;
  now?: () => Date;
}

export function createOwnerEmailNotifier(deps: OwnerEmailDeps): OwnerEmailNotifier {
  const transport = deps.transport ?? createSmtpTransport(deps.config.smtpUrl);
  const renderer = new EmailRenderer({ ...rendererOptionsFrom(deps.config, deps.templatesDir), adPrefix: deps.config.adPrefix });
  return async ({ task, owner, customer, workflowId }) => {
    const [firstName, ...rest] = owner.name.trim().split(/\s+/);
    // One messaging instance per notice: its recipient is this owner (cheap: transport and renderer are shared).
    const { sendEmail } = createMessagingActivities({
      config: deps.config, transport, renderer, now: deps.now, retryWindowMs: deps.config.sendRetryHours * 3_600_000,
      loadRecipient: async () => ({ firstName, lastName: rest.join(' ') || null, locale: null, timezone: null, email: owner.email, emailStatus: 'verified', consent: null }),
    });
    const name = [customer.firstName, customer.lastName].filter(Boolean).join(' ');
    return sendEmail({
      key: `${task.key}:owner`, workflowId, contactId: task.contactId, journeyId: task.journeyId, stepId: task.stepId, templateId: OWNER_TASK_TEMPLATE,
      vars: {
        task: { id: task._id, title: task.title, why: task.why, due: task.due.toISOString(), url: `${deps.config.publicBaseUrl}/v1/tasks/${task._id}` },
        customer: { ...customer, name: name || null },
      },
    });
  };
}

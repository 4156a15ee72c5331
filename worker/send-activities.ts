/**
 * Delivery's send activity as the worker registers it (production, the scenario harness, e2e): the
 * engine and Delivery reach the one contacts data layer (data/contacts.ts) through their adapters
 * (mail/contacts-port.ts, activities/messaging.ts); SMTP bounces during a send are recorded through
 * mail/bounces.ts.
 */
import { createMessagingActivities, dataLayerRecipientLoader } from '../activities/messaging';
import type { Config } from '../lib/config';
import type { DependencyHealth } from '../lib/dependency-health';
import { applyContactUpdate, getContact, suppress } from '../data/contacts';
import { recordSmtpBounce, softBouncePolicy } from '../mail/bounces';
import { dataLayerContactsPort } from '../mail/contacts-port';
import type { MailTransport } from '../mail/transport';
import type { EventSink } from '../mail/events';
import { createTaskStepActivities } from '../activities/task-step';
import { createOwnerEmailNotifier } from '../activities/owner-email';
import { dataLayerContactStore } from '../activities/contact-store';

/** Delivery's send activity over the data layer's recipients. */
export function createSendActivities(config: Config, opts: { transport?: MailTransport; templatesDir?: string; now?: () => Date; afterSmtp?: (input: { templateId: string }) => void; onEvent?: EventSink; health?: DependencyHealth } = {}) {
  const contacts = dataLayerContactsPort({ applyContactUpdate, getContact, suppress });
  const { sendEmail } = createMessagingActivities({
    config, transport: opts.transport, templatesDir: opts.templatesDir, loadRecipient: dataLayerRecipientLoader(), now: opts.now, afterSmtp: opts.afterSmtp,
    retryWindowMs: config.sendRetryHours * 3_600_000, health: opts.health,
    onBounce: async (row, bounce) => void (await recordSmtpBounce(row, bounce, { contacts, onEvent: opts.onEvent, softBounces: softBouncePolicy(config) })),
  });
  return { sendEmail };
}

/** The task step with the owner's email over the same relay and templates as Delivery's sends. */
export function createTaskActivities(config: Config, opts: { transport?: MailTransport; templatesDir?: string; now?: () => Date } = {}) {
  return createTaskStepActivities({ contacts: dataLayerContactStore(), notifyByEmail: createOwnerEmailNotifier({ config, ...opts }) });
}

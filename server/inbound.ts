/**
 * Inbound mail wired to the product: the processor (mail/inbound.ts) over the contacts data layer,
 * the project's rule sets over messages, and the event sink, so `email.received` and mailto
 * unsubscribes go through the same door as every other event. Used by `sojourn serve` (the SMTP
 * listener) and `sojourn inbound ingest`.
 */
import { Types } from 'mongoose';
import type { Config } from '../lib/config';
import { applyContactUpdate, findByEmail, getContact, suppress } from '../data/contacts';
import { emptyContact } from '../data/contact-merge';
import { toContactView } from '../data/contact-view';
import { dataLayerContactsPort } from '../mail/contacts-port';
import type { EmailEvent } from '../mail/events';
import { processInbound, type Envelope, type InboundOutcome } from '../mail/inbound';
import { TokenSigner } from '../mail/tokens';
import type { RuleSetPlan } from '../rules/plan';

export type InboundProcessor = (raw: Buffer, envelope?: Envelope) => Promise<InboundOutcome>;

export function createInboundProcessor(config: Pick<Config, 'mailDomain' | 'secret'>, deps: {
  ruleSets: Record<string, RuleSetPlan>;
  emit(event: EmailEvent): Promise<unknown>;
  now?: () => Date;
}): InboundProcessor {
  const now = deps.now ?? (() => new Date());
  const signer = new TokenSigner(config.secret);
  const contacts = dataLayerContactsPort({ applyContactUpdate, getContact, suppress });
  const ruleSets = Object.values(deps.ruleSets).filter((r) => r.over === 'message');
  const unknownContact = toContactView(emptyContact(new Types.ObjectId('000000000000000000000000'), new Date(0), 'inbound'));
  return (raw, envelope) => processInbound(raw, {
    mailDomain: config.mailDomain,
    signer,
    ruleSets,
    unknownContact,
    contacts,
    emit: deps.emit,
    now,
    async findContact(address) {
      const doc = await findByEmail(address);
      return doc && !doc.erasedAt ? { id: String(doc._id), view: toContactView(doc) } : null;
    },
  }, envelope);
}

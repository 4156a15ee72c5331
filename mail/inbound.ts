/**
 * Inbound email: what people send back to the sending domain (replies, new questions, the RFC 8058
 * mailto unsubscribe). One message in, one outcome out, used by the inbound SMTP listener
 * (mail/inbound-server.ts) and `sojourn inbound ingest <file.eml...>`:
 *
 *  - mail to `unsubscribe@MAIL_DOMAIN` whose subject carries a valid unsubscribe token (the mailto
 *    List-Unsubscribe of every marketing email) unsubscribes that contact, like the one-click POST,
 *    and emits `email.unsubscribed` (same event id per token, so a second copy changes nothing);
 *  - any other message is classified with the rule sets written `over: message` (category, urgency)
 *    and, when the sender is a known contact, emits `email.received` with the result.
 *
 * Nothing acts on other tokens found in a message: a reply that quotes the double opt-in link
 * confirms nothing (confirming takes the page's button). What is kept: the category, the urgency,
 * the rule that matched and a hash of the Message-ID, on the contact's timeline; never the body,
 * the subject or the sender's address.
 */
import crypto from 'node:crypto';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { parseEmail } from '../lib/email-address';
import { classify, type Classification } from '../rules/evaluate';
import type { ContactView, MessageView } from '../rules';
import type { RuleSetPlan } from '../rules/plan';
import type { ContactsPort } from './contacts-port';
import { deterministicEventId, type EmailEvent } from './events';
import type { TokenSigner } from './tokens';

/** Longest text the rules see; enough for a customer's message, bounded for quoted threads. */
export const INBOUND_TEXT_LIMIT = 20_000;

export interface InboundDeps {
  mailDomain: string;
  signer: TokenSigner;
  /** Rule sets over messages (`over: message`); others are ignored. */
  ruleSets: RuleSetPlan[];
  /** The sender's contact, or null when the address is not a contact's. */
  findContact(address: string): Promise<{ id: string; view: ContactView } | null>;
  /** An empty contact for senders who are not contacts (so `contact.*` rules stay well-typed). */
  unknownContact: ContactView;
  contacts: Pick<ContactsPort, 'setEmailConsent'>;
  emit(event: EmailEvent): Promise<unknown>;
  now(): Date;
}

export type InboundOutcome =
  | { kind: 'unsubscribed'; contactId: string }
  | { kind: 'ignored'; reason: 'bad_unsubscribe_token' | 'no_sender' }
  | { kind: 'classified'; contactId: string | null; category: string; urgency: string; rules: Record<string, string> };

/** Envelope facts the SMTP listener knows and a file does not. */
export interface Envelope { rcptTo?: string[] }

function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((a) => a.value.map((v) => (v.address ?? '').toLowerCase())).filter(Boolean);
}

function header(mail: ParsedMail, name: string): string {
  const v = mail.headers.get(name);
  return typeof v === 'string' ? v : v && typeof v === 'object' && 'value' in v ? String((v as { value: unknown }).value) : '';
}

/** RFC 3834 auto-replies and the common vendor headers for them. */
function isAutoReply(mail: ParsedMail): boolean {
  const auto = header(mail, 'auto-submitted').toLowerCase();
  if (auto && auto !== 'no') return true;
  if (mail.headers.has('x-autoreply') || mail.headers.has('x-autorespond')) return true;
  return /^(auto_reply|bulk|junk)$/i.test(header(mail, 'precedence').trim());
}

/** The message as rules see it. */
export function messageView(mail: ParsedMail, knownContact: boolean): MessageView {
  const from = addresses(mail.from)[0] ?? '';
  return {
    from,
    fromDomain: from.includes('@') ? from.slice(from.lastIndexOf('@') + 1) : '',
    to: [...addresses(mail.to), ...addresses(mail.cc)],
    subject: (mail.subject ?? '').slice(0, 1000),
    text: (mail.text ?? '').slice(0, INBOUND_TEXT_LIMIT),
    isReply: Boolean(mail.inReplyTo) || /^\s*(re|aw|回复|答复)\s*[:：]/i.test(mail.subject ?? ''),
    isAutoReply: isAutoReply(mail),
    knownContact,
  };
}

const TOKEN_RE = /[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g;

/** Processes one raw message (RFC 5322 bytes). Never throws for a malformed message: mailparser is lenient. */
export async function processInbound(raw: Buffer | string, deps: InboundDeps, envelope: Envelope = {}): Promise<InboundOutcome> {
  const mail = await simpleParser(raw, { skipHtmlToText: false, skipImageLinks: true, skipTextToHtml: true });
  const at = deps.now();
  const recipients = new Set([...(envelope.rcptTo ?? []).map((a) => a.toLowerCase()), ...addresses(mail.to), ...addresses(mail.cc)]);

  if (recipients.has(`unsubscribe@${deps.mailDomain}`.toLowerCase())) {
    // RFC 8058 mailto path: the token in the subject (our List-Unsubscribe puts it there) decides.
    for (const candidate of (mail.subject ?? '').match(TOKEN_RE) ?? []) {
      const check = deps.signer.verify(candidate, 'unsubscribe', at);
      if (!check.ok) continue;
      const contactId = check.claims.contactId;
      await deps.contacts.setEmailConsent(contactId, 'unsubscribed', { source: 'mailto', at, wording: 'unsubscribe-v1' });
      await deps.emit({ contactId, name: 'email.unsubscribed', at, data: { source: 'mailto' }, eventId: deterministicEventId('email.unsubscribed', check.tokenId) });
      return { kind: 'unsubscribed', contactId };
    }
    return { kind: 'ignored', reason: 'bad_unsubscribe_token' };
  }

  const from = addresses(mail.from)[0];
  if (!from || !parseEmail(from).ok) return { kind: 'ignored', reason: 'no_sender' };
  const contact = await deps.findContact(from);
  const message = messageView(mail, contact !== null);
  const results: Record<string, Classification & { ruleSet: string }> = {};
  for (const rs of deps.ruleSets) {
    if (rs.over !== 'message') continue;
    const r = classify(rs, { message, contact: contact?.view ?? deps.unknownContact, now: at });
    if (r) results[rs.field] = { ...r, ruleSet: rs.name };
  }
  const category = results.category?.value ?? 'other';
  const urgency = results.urgency?.value ?? 'normal';
  const rules = Object.fromEntries(Object.entries(results).map(([field, r]) => [field, `${r.ruleSet}#${r.rule}`]));
  if (contact) {
    const messageRef = crypto.createHash('sha256').update(mail.messageId ?? `${from}\0${mail.date?.toISOString() ?? ''}\0${message.subject}`).digest('hex').slice(0, 32);
    await deps.emit({
      contactId: contact.id, name: 'email.received', at,
      data: { category, urgency, rules, reply: message.isReply, autoReply: message.isAutoReply, messageRef },
      eventId: deterministicEventId('email.received', messageRef),
    });
  }
  return { kind: 'classified', contactId: contact?.id ?? null, category, urgency, rules };
}
